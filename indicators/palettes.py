"""Colours of the dashboard, screen and slide: one palette for territories, one per kind of category.

Territories (the chosen one, the others, the references) and each kind of category (sectors, filières, plan
statuses, signs of a contribution) have their own colours: a hue never means two things. Every palette is
checked (tests/test_palettes.py) under a simulation of deuteranopia and protanopia (Machado, Oliveira and
Fernandes 2009, severity 1): any two colours of one palette stay at least `MIN_DISTANCE` apart in CIELAB.
"""
from __future__ import annotations

# Territories: the chosen territory in colour, the others grey, the references darker greys.
FOCUS = "#332288"            # indigo
OTHER = "#C8C8C8"
REFERENCE_GREYS = ["#3b3b3b", "#5e5e5e", "#7a7a7a", "#9a9a9a", "#b0b0b0"]
# When every territory needs its own colour (a few lines of an evolution): indigo first, then far apart hues.
TERRITORIES = ["#332288", "#88CCEE", "#117733", "#DDCC77", "#882255", "#44AA99", "#999933", "#AA4499", "#CC6677"]

# Categories: hues no territory palette uses.
SECTORS = {"industrie": "#0072B2", "construction": "#E69F00", "commerce": "#009E73",
           "hebergement_restauration": "#F0E442", "transport_autres_services": "#D55E00"}
FILIERES = {"agroalimentaire": "#56B4E9", "ppam": "#CC79A7", "aeronautique": "#1F3A5F",
            "energies_renouvelables": "#B8860B", "btp": "#6B4226"}
PLAN_STATUSES = {"à lancer": "#9EBCDA", "en cours": "#8C6BB1", "réalisé": "#4D004B", "abandonné": "#E0E0E0"}
# Signs of a contribution: a diverging pair (teal up, brown down), the totals dark grey.
UP, DOWN, TOTAL = "#35978F", "#A6611A", "#262626"
SIGNS = {"hausse": UP, "baisse": DOWN, "total": TOTAL}

# Placeholders: a secret value (« s ») and a partial one.
SECRET_FILL = "#FFFFFF"
SECRET_LINE = "#7a7a7a"
PARTIAL_PATTERN = "/"

PALETTES = {"territoires": TERRITORIES, "secteurs": list(SECTORS.values()), "filieres": list(FILIERES.values()),
            "statuts du plan": list(PLAN_STATUSES.values()), "signes": list(SIGNS.values())}
MIN_DISTANCE = 15.0          # CIE76 ΔE between two colours of a palette, under each simulated vision


# --- colour-vision simulation -------------------------------------------------------------------------

# Machado et al. (2009), severity 1.0, on linear RGB.
_MACHADO = {
    "deuteranopie": ((0.367322, 0.860646, -0.227968), (0.280085, 0.672501, 0.047413), (-0.011820, 0.042940, 0.968881)),
    "protanopie": ((0.152286, 1.052583, -0.204868), (0.114503, 0.786281, 0.099216), (-0.003882, -0.048116, 1.051998)),
}
VISIONS = ("normale", "deuteranopie", "protanopie")


def _linear(hex_colour: str) -> tuple[float, float, float]:
    h = hex_colour.lstrip("#")
    out = []
    for i in (0, 2, 4):
        c = int(h[i:i + 2], 16) / 255
        out.append(c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4)
    return tuple(out)


def simulate(hex_colour: str, vision: str) -> tuple[float, float, float]:
    """Linear RGB of the colour as seen with that vision (clipped to the gamut)."""
    rgb = _linear(hex_colour)
    if vision == "normale":
        return rgb
    m = _MACHADO[vision]
    return tuple(min(1.0, max(0.0, sum(m[r][c] * rgb[c] for c in range(3)))) for r in range(3))


def lab(rgb: tuple[float, float, float]) -> tuple[float, float, float]:
    """CIELAB (D65) of a linear RGB colour."""
    r, g, b = rgb
    x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047
    y = 0.2126 * r + 0.7152 * g + 0.0722 * b
    z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883

    def f(t):
        return t ** (1 / 3) if t > 216 / 24389 else (24389 / 27 * t + 16) / 116
    fx, fy, fz = f(x), f(y), f(z)
    return 116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)


def distance(a: str, b: str, vision: str = "normale") -> float:
    la, lb = lab(simulate(a, vision)), lab(simulate(b, vision))
    return sum((p - q) ** 2 for p, q in zip(la, lb)) ** 0.5


def closest_pair(colours: list[str], vision: str) -> tuple[float, str, str]:
    best = (float("inf"), "", "")
    for i, a in enumerate(colours):
        for b in colours[i + 1:]:
            d = distance(a, b, vision)
            if d < best[0]:
                best = (d, a, b)
    return best


# Opacity of the other territories beside the chosen one (page bars; the deck's tint).
OTHERS_OPACITY = 0.55


def tint(hex_colour: str, keep: float = OTHERS_OPACITY) -> str:
    """The colour seen at opacity `keep` over white: the other territories beside the chosen one."""
    h = hex_colour.lstrip("#")
    return "#" + "".join(f"{round(255 - (255 - int(h[i:i + 2], 16)) * keep):02X}" for i in (0, 2, 4))
