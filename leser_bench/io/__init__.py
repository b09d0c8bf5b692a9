"""What a run reads and writes on disk: the content-addressed cache and atomic writers (cache), the stage
cache's keys and records (artefacts), TREC run and qrels files (trec), streamed checksummed runs (runs)."""
