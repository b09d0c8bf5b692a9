"""Method kinds (the registry), what a method is built from, and what a built method gives back."""

from leser_bench.errors import ConfigError
from leser_bench.methods.context import ConfigView, MethodContext, MethodSystem
from leser_bench.methods.registry import (
    BUILTIN,
    RUN_SEED,
    MethodKind,
    build_expander,
    build_method,
    check_method_settings,
    kind_of,
    known_kinds,
    register,
)

__all__ = ["BUILTIN", "RUN_SEED", "ConfigError", "ConfigView", "MethodContext", "MethodKind", "MethodSystem",
           "build_expander", "build_method", "check_method_settings", "kind_of", "known_kinds", "register"]
