"""Product types of the sports and toys categories."""

from __future__ import annotations

from leser_bench.data.world.taxonomy import t

TYPES = [
    # -- sports ------------------------------------------------------------------------------
    t("yoga mat", "sports", "yoga mat, exercise pad, fitness mat, gym flooring",
      materials="tpe, natural rubber, pvc, cork", features="non-slip, extra thick, foldable",
      sizes="4mm, 6mm, 10mm", uses="yoga, pilates, gym, travel", palette="bright",
      name_uses={"yoga mat": "yoga"}),
    t("dumbbells", "sports", "dumbbells, hand weights, free weights, weight set",
      materials="cast iron, neoprene, rubber-coated", features="adjustable, hex, with rack",
      sizes="5 lb, 10 lb, 20 lb, 50 lb", uses="home gym, strength training, rehab", palette="bright",
      complements="yoga mat"),
    t("bicycle", "sports", "bicycle, bike, cycle, mountain bike",
      materials="aluminum, steel, carbon", features="21-speed, electric, folding, hybrid",
      sizes="20 inch, 24 inch, 26 inch, 29 inch", uses="commuting, trail, kids", palette="bright",
      name_uses={"mountain bike": "trail"}, complements="water bottle"),
    t("tent", "sports", "tent, shelter, canopy, camping tent",
      materials="polyester, nylon, canvas", features="waterproof, instant, backpacking",
      sizes="2-person, 4-person, 6-person", uses="camping, backpacking, beach, festival", palette="home",
      name_uses={"camping tent": "camping"}, complements="sleeping bag"),
    t("sleeping bag", "sports", "sleeping bag, sleep sack, camping quilt, bedroll",
      materials="down, synthetic, flannel", features="mummy, lightweight, compressible",
      sizes="0 degree, 20 degree, 40 degree", uses="camping, backpacking, kids, winter", palette="home",
      complements="tent"),
    t("backpack", "sports", "backpack, rucksack, daypack, knapsack",
      materials="nylon, canvas, leather, polyester", features="waterproof, anti-theft, with laptop compartment",
      sizes="20l, 30l, 40l", uses="hiking, school, travel, office", palette="wear",
      substitutes="laptop bag"),
    # -- toys --------------------------------------------------------------------------------
    t("building blocks", "toys", "building blocks, construction bricks, stacking set, building kit",
      materials="plastic, wood", features="with storage box, city theme, space theme",
      sizes="100 pieces, 500 pieces, 1000 pieces", uses="toddler, kids, teens", palette=None),
    t("stuffed animal", "toys", "stuffed animal, plush toy, plushie, cuddly toy",
      materials="plush, cotton, minky", features="bear, bunny, unicorn, dinosaur",
      sizes="8 inch, 12 inch, 20 inch", uses="baby, toddler, kids", palette="bright"),
    t("puzzle", "toys", "puzzle, jigsaw, picture puzzle, brain teaser",
      materials="cardboard, wood", features="landscape, animals, world map",
      sizes="100 pieces, 500 pieces, 1000 pieces", uses="kids, adults, family", palette=None,
      substitutes="board game"),
    t("board game", "toys", "board game, tabletop game, boardgame, parlor game",
      features="cooperative, party, trivia", uses="family, kids, adults, 2 players", palette=None,
      substitutes="puzzle"),
    t("toy car", "toys", "toy car, rc car, remote control vehicle, racer",
      materials="plastic, die-cast metal", features="off-road, rechargeable, high speed",
      uses="toddler, kids, teens", palette="bright"),
]
