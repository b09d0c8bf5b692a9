"""Product types of the wearable categories: footwear, apparel, beauty."""

from __future__ import annotations

from leser_bench.data.world.taxonomy import t

_SHOE_SIZES = "size 6, size 7, size 8, size 9, size 10, size 11, size 12"
_CLOTH_SIZES = "small, medium, large, xl"

TYPES = [
    # -- footwear ----------------------------------------------------------------------------
    t("sneakers", "footwear", "sneakers, trainers, running shoes, kicks",
      materials="mesh, leather, knit, suede, canvas", features="lightweight, slip-on, waterproof, cushioned",
      sizes=_SHOE_SIZES, uses="running, gym, walking, casual", palette="wear",
      audiences="men, women, kids", name_uses={"running shoes": "running"},
      substitutes="hiking boots"),
    t("hiking boots", "footwear", "hiking boots, trekking shoes, hikers, mountain boots",
      materials="leather, suede, nubuck, synthetic", features="waterproof, insulated, ankle support, lightweight",
      sizes=_SHOE_SIZES, uses="hiking, winter, work, camping", palette="wear",
      audiences="men, women", name_uses={"hiking boots": "hiking"}, substitutes="sneakers"),
    t("sandals", "footwear", "sandals, flip flops, slides, thongs",
      materials="leather, rubber, eva foam, cork", features="adjustable strap, arch support, waterproof",
      sizes=_SHOE_SIZES, uses="beach, casual, pool", palette="wear",
      audiences="men, women, kids", substitutes="sneakers"),

    # -- apparel -----------------------------------------------------------------------------
    t("hoodie", "apparel", "hoodie, sweatshirt, pullover, hoody",
      materials="cotton, fleece, polyester, organic cotton", features="zip-up, oversized, graphic, lightweight",
      sizes=_CLOTH_SIZES, uses="casual, gym, winter, lounging", palette="wear",
      audiences="men, women, kids", substitutes="jacket, t-shirt"),
    t("t-shirt", "apparel", "t-shirt, tee, tshirt, crew neck top",
      materials="cotton, organic cotton, polyester, linen, merino wool",
      features="v-neck, graphic, slim fit, moisture-wicking",
      sizes=_CLOTH_SIZES, uses="casual, running, gym, summer", palette="wear",
      audiences="men, women, kids", substitutes="hoodie"),
    t("jeans", "apparel", "jeans, denim pants, denims, dungarees",
      materials="denim, stretch denim, organic cotton", features="skinny, straight leg, bootcut, high-rise, distressed",
      sizes="waist 28, waist 30, waist 32, waist 34, waist 36", uses="casual, work", palette="wear",
      audiences="men, women, kids", substitutes="leggings"),
    t("jacket", "apparel", "jacket, coat, parka, windbreaker",
      materials="down, wool, nylon, leather, fleece", features="waterproof, hooded, insulated, packable",
      sizes=_CLOTH_SIZES, uses="winter, rain, hiking, running", palette="wear",
      audiences="men, women, kids", substitutes="hoodie"),
    t("shorts", "apparel", "shorts, trunks, gym shorts, bermudas",
      materials="polyester, cotton, nylon", features="with pockets, quick-dry, drawstring",
      sizes=_CLOTH_SIZES, uses="running, gym, beach, casual", palette="wear",
      audiences="men, women, kids", name_uses={"gym shorts": "gym"},
      substitutes="leggings"),
    t("leggings", "apparel", "leggings, yoga pants, tights, jeggings",
      materials="spandex, nylon, cotton", features="high-waisted, with pockets, squat proof, fleece-lined",
      sizes=_CLOTH_SIZES, uses="yoga, running, gym, casual", palette="wear",
      audiences="women, kids", name_uses={"yoga pants": "yoga"}, substitutes="shorts, jeans"),
    t("dress", "apparel", "dress, gown, frock, sundress",
      materials="cotton, linen, silk, chiffon, satin", features="maxi, midi, wrap, sleeveless, floral",
      sizes=_CLOTH_SIZES, uses="wedding, party, beach, office, summer", palette="wear",
      audiences="women, kids"),
    # -- beauty ------------------------------------------------------------------------------
    t("shampoo", "beauty", "shampoo, hair wash, hair cleanser, cleansing wash",
      materials="argan oil, tea tree, coconut, lavender",
      features="sulfate-free, volumizing, anti-dandruff, moisturizing",
      sizes="8 oz, 16 oz, 32 oz", uses="curly hair, oily hair, dry hair, kids", palette=None,
      material_label="Key ingredient", substitutes="moisturizer"),
    t("moisturizer", "beauty", "moisturizer, face cream, facial lotion, moisturiser",
      materials="hyaluronic acid, vitamin c, retinol, aloe vera", features="spf 30, fragrance-free, oil-free",
      sizes="1.7 oz, 2.5 oz", uses="dry skin, oily skin, sensitive skin, night", palette=None,
      material_label="Key ingredient", substitutes="shampoo"),
    t("perfume", "beauty", "perfume, fragrance, cologne, eau de parfum",
      materials="floral, woody, citrus, vanilla", features="long-lasting, travel size, gift set",
      sizes="1 oz, 1.7 oz, 3.4 oz", uses="everyday, evening", palette=None,
      audiences="men, women", material_label="Scent"),
    t("hair dryer", "beauty", "hair dryer, blow dryer, hairdryer, blowdryer",
      materials="ceramic, tourmaline, ionic", features="with diffuser, foldable, 1875w, quiet",
      uses="curly hair, travel, salon", palette="tech", material_label="Technology",
      substitutes="shampoo", weight=0.8),
]
