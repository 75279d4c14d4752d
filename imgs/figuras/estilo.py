"""Aspecto común de las figuras del curso (colores, tipografía, guardado determinista).

Lo usan dos clientes: el script `imgs/generar_figuras.py`, que dibuja los diagramas (`nueva_figura`, `caja`, `flecha`,
`guardar`), y las gráficas que dibujan los cuadernos y `plot_losses`, que toman `ESTILO_GRAFICAS`:

    plt.rcParams.update(ESTILO_GRAFICAS)   # en un cuaderno, una vez, antes de la primera gráfica

No elige el backend de matplotlib (el script usa Agg; Jupyter, el suyo), así que importarlo en un cuaderno no
impide que se vean las gráficas.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
from cycler import cycler
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

# Paleta del curso (apta para daltonismo, basada en Okabe-Ito)
AZUL = "#0072B2"
NARANJA = "#E69F00"
VERDE = "#009E73"
ROJO = "#D55E00"
MORADO = "#CC79A7"
CELESTE = "#56B4E9"
AMARILLO = "#F0E442"
GRIS = "#6E6E6E"
GRIS_CLARO = "#E8E8E8"
TINTA = "#222222"

ESTILO = {
    "figure.dpi": 100,
    "savefig.dpi": 150,
    "font.family": "DejaVu Sans",
    "font.size": 11,
    "axes.titlesize": 13,
    "axes.titleweight": "bold",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.edgecolor": GRIS,
    "axes.labelcolor": TINTA,
    "text.color": TINTA,
    "xtick.color": TINTA,
    "ytick.color": TINTA,
    "svg.hashsalt": "llm-desde-cero",
}

# Para las gráficas con ejes (curvas, barras): el mismo estilo, los colores del curso en orden y una rejilla suave.
ESTILO_GRAFICAS = {
    **ESTILO,
    "axes.prop_cycle": cycler(color=[AZUL, NARANJA, VERDE, ROJO, MORADO, CELESTE]),
    "axes.grid": True,
    "grid.color": GRIS_CLARO,
    "grid.linewidth": 0.8,
    "axes.axisbelow": True,
    "legend.frameon": False,
}


def nueva_figura(ancho: float = 10, alto: float = 4, ejes: bool = False):
    """Figura con el estilo del curso. Con `ejes=False` devuelve un lienzo sin ejes para diagramas."""
    plt.rcParams.update(ESTILO)
    fig, ax = plt.subplots(figsize=(ancho, alto))
    if not ejes:
        ax.set_xlim(0, ancho)
        ax.set_ylim(0, alto)
        ax.axis("off")
    return fig, ax


def caja(ax, x, y, ancho, alto, texto, color=AZUL, relleno=None, tamano=11, negrita=False, texto_color=None):
    """Caja redondeada con texto centrado (x, y: esquina inferior izquierda)."""
    relleno = relleno if relleno is not None else color + "22"
    ax.add_patch(
        FancyBboxPatch(
            (x, y), ancho, alto, boxstyle="round,pad=0.02,rounding_size=0.12",
            linewidth=1.6, edgecolor=color, facecolor=relleno,
        )
    )
    ax.text(
        x + ancho / 2, y + alto / 2, texto, ha="center", va="center", fontsize=tamano,
        fontweight="bold" if negrita else "normal", color=texto_color or TINTA, wrap=True,
    )


def flecha(ax, x0, y0, x1, y1, color=GRIS, texto=None, tamano=10):
    """Flecha de (x0, y0) a (x1, y1) con una etiqueta opcional en el punto medio."""
    ax.add_patch(
        FancyArrowPatch((x0, y0), (x1, y1), arrowstyle="-|>", mutation_scale=16, linewidth=1.6, color=color)
    )
    if texto:
        ax.text((x0 + x1) / 2, (y0 + y1) / 2 + 0.15, texto, ha="center", va="bottom", fontsize=tamano, color=color)


def guardar(fig, destino: Path, nombre: str) -> Path:
    """Guarda la figura en PNG sin metadatos variables (mismo archivo en cada ejecución) y la cierra."""
    destino.mkdir(parents=True, exist_ok=True)
    ruta = destino / nombre
    fig.savefig(ruta, format="png", bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    return ruta
