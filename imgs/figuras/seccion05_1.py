"""Figuras de seccion05/1_evaluando_modelos_texto.ipynb (evaluación de modelos de texto generativo)."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Rectangle

from figuras.estilo import (
    AZUL,
    CELESTE,
    GRIS,
    GRIS_CLARO,
    MORADO,
    NARANJA,
    ROJO,
    TINTA,
    VERDE,
    caja,
    flecha,
    guardar,
    nueva_figura,
)

# Pasos del capítulo: (cuaderno, título corto)
PASOS_CAPITULO = [
    ("1", "Generar texto\ny medir\nla pérdida"),
    ("2", "Entrenar el LLM"),
    ("3", "Estrategias de\ndecodificación"),
    ("4", "Guardar y\ncargar pesos"),
    ("5", "Pesos\npreentrenados\nde GPT-2"),
    ("6", "Rendimiento"),
]


def mapa_capitulo(destino: Path, resaltado: int = 0, nombre: str = "mapa_capitulo.png", nota: str = "") -> Path:
    """Hoja de ruta de la sección 5 con un cuaderno resaltado."""
    fig, ax = nueva_figura(12, 3.4)
    ancho, alto, hueco = 1.65, 1.5, 0.32
    x0 = (12 - (len(PASOS_CAPITULO) * ancho + (len(PASOS_CAPITULO) - 1) * hueco)) / 2
    for i, (num, titulo) in enumerate(PASOS_CAPITULO):
        x = x0 + i * (ancho + hueco)
        activo = i == resaltado
        color = NARANJA if activo else AZUL
        caja(ax, x, 1.0, ancho, alto, titulo, color=color, relleno=color + ("55" if activo else "18"),
             tamano=10, negrita=activo)
        ax.text(x + ancho / 2, 2.75, f"Cuaderno {num}", ha="center", fontsize=9.5, color=color,
                fontweight="bold" if activo else "normal")
        if i < len(PASOS_CAPITULO) - 1:
            flecha(ax, x + ancho + 0.02, 1.75, x + ancho + hueco - 0.02, 1.75)
    ax.text(6, 0.45, nota or "Sección 5: preentrenar un GPT con texto sin etiquetar", ha="center", fontsize=11,
            color=GRIS, style="italic")
    return guardar(fig, destino, nombre)


def mapa_inicio(destino: Path) -> Path:
    return mapa_capitulo(destino, 0, "mapa_capitulo.png", "Este cuaderno: generar texto con el modelo y medir "
                         "con una pérdida lo lejos que está del texto correcto")


def mapa_siguiente(destino: Path) -> Path:
    return mapa_capitulo(destino, 1, "mapa_siguiente.png", "Siguiente cuaderno: usar la pérdida para entrenar el modelo")


def ciclo_texto_ids(destino: Path) -> Path:
    """Texto → ids → GPTModel → logits → argmax → ids → texto."""
    fig, ax = nueva_figura(15, 3.9)
    pasos = [
        ("Texto de entrada\n«Every effort\nmoves you»", VERDE),
        ("ids de tokens\n[6109, 3626,\n6100, 345]", AZUL),
        ("GPTModel", MORADO),
        ("logits\n(1, 4, 50257)", NARANJA),
        ("argmax de los\nlogits del\núltimo paso", ROJO),
        ("ids de tokens\n(los de entrada\n+ el id nuevo)", AZUL),
        ("Texto de salida\n«… you» + token\nnuevo", VERDE),
    ]
    etiquetas = ["tokenizer.encode", "", "", "", "", "tokenizer.decode"]
    ancho, alto, hueco, x0, abajo = 1.75, 1.55, 0.4, 0.15, 1.45
    for i, (texto, color) in enumerate(pasos):
        x = x0 + i * (ancho + hueco)
        caja(ax, x, abajo, ancho, alto, texto, color=color, tamano=10, negrita=(texto == "GPTModel"))
        if i < len(pasos) - 1:
            flecha(ax, x + ancho + 0.04, abajo + alto / 2, x + ancho + hueco - 0.04, abajo + alto / 2)
            if etiquetas[i]:
                ax.text(x + ancho + hueco / 2, abajo - 0.4, etiquetas[i], ha="center", fontsize=8.5, color=GRIS,
                        family="DejaVu Sans Mono")

    def tramo(primera, ultima):
        return x0 + primera * (ancho + hueco), x0 + ultima * (ancho + hueco) + ancho

    for (primera, ultima), texto, color in [
        ((0, 1), "1. texto → ids: text_to_token_ids", AZUL),
        ((2, 3), "2. el modelo calcula los logits", MORADO),
        ((4, 4), "3. argmax", ROJO),
        ((5, 6), "4. ids → texto: token_ids_to_text", AZUL),
    ]:
        x_ini, x_fin = tramo(primera, ultima)
        y_linea = abajo + alto + 0.3
        ax.annotate("", xy=(x_ini, y_linea), xytext=(x_fin, y_linea),
                    arrowprops={"arrowstyle": "-", "color": color, "linewidth": 2})
        ax.text((x_ini + x_fin) / 2, y_linea + 0.13, texto, ha="center", fontsize=10.5, color=color)
    ax.text(7.5, 0.3, "La salida se vuelve a meter en el modelo para generar el siguiente token.", ha="center",
            fontsize=10, color=GRIS, style="italic")
    return guardar(fig, destino, "ciclo_texto_ids.png")


VOCAB_7 = ["a", "effort", "every", "forward", "moves", "you", "zoo"]
# Probabilidades inventadas (cada fila suma 1) para la entrada «every effort moves»
PROBAS_7 = np.array(
    [
        [0.10, 0.60, 0.20, 0.05, 0.00, 0.02, 0.03],
        [0.06, 0.07, 0.10, 0.02, 0.65, 0.05, 0.05],
        [0.05, 0.05, 0.05, 0.15, 0.10, 0.55, 0.05],
    ]
)


def vocabulario_7_tokens(destino: Path) -> Path:
    """Probabilidades sobre un vocabulario de 7 tokens y argmax en cada posición."""
    fig, ax = nueva_figura(10, 4.2, ejes=True)
    im = ax.imshow(PROBAS_7, cmap="Blues", vmin=0, vmax=0.8, aspect="auto")
    ax.set_xticks(range(7), [f"{i}\n{t}" for i, t in enumerate(VOCAB_7)])
    ax.set_yticks(range(3), ["every", "effort", "moves"])
    ax.set_xlabel("Vocabulario (id y token)")
    ax.set_ylabel("Token de entrada")
    for fila in range(3):
        for col in range(7):
            p = PROBAS_7[fila, col]
            ax.text(col, fila, f"{p:.2f}", ha="center", va="center", fontsize=10,
                    color="white" if p > 0.4 else TINTA, fontweight="bold" if p == PROBAS_7[fila].max() else "normal")
        mejor = int(PROBAS_7[fila].argmax())
        ax.add_patch(Rectangle((mejor - 0.5, fila - 0.5), 1, 1, fill=False,
                                                                 edgecolor=NARANJA, linewidth=3))
        ax.text(7.0, fila, f"argmax → {mejor} «{VOCAB_7[mejor]}»", va="center", fontsize=10, color=NARANJA)
    ax.set_xlim(-0.5, 9.6)
    ax.spines[["left", "bottom"]].set_visible(False)
    ax.set_title("Softmax por posición y argmax: «every effort moves» → «effort moves you»")
    fig.colorbar(im, ax=ax, fraction=0.03, pad=0.01, label="probabilidad")
    return guardar(fig, destino, "vocabulario_7_tokens.png")


def probabilidades_objetivo(destino: Path) -> Path:
    """Antes y después de entrenar: la probabilidad del token objetivo debe subir."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.6), sharey=True)
    rng = np.random.default_rng(123)
    antes = rng.dirichlet(np.ones(7) * 5)
    objetivo = 1  # «effort»
    despues = np.full(7, 0.03)
    despues[objetivo] = 1 - 0.03 * 6
    for ax, valores, titulo in [(axes[0], antes, "Modelo sin entrenar"), (axes[1], despues, "Tras entrenar")]:
        colores = [NARANJA if i == objetivo else CELESTE for i in range(7)]
        ax.bar(range(7), valores, color=colores, edgecolor=TINTA, linewidth=0.6)
        ax.set_xticks(range(7), VOCAB_7, rotation=0)
        ax.set_title(titulo)
        ax.set_ylim(0, 1)
        ax.spines[["top", "right"]].set_visible(False)
        ax.text(objetivo, valores[objetivo] + 0.03, f"{valores[objetivo]:.2f}", ha="center", color=NARANJA,
                fontweight="bold")
    axes[0].set_ylabel("probabilidad del siguiente token")
    fig.suptitle("Entrada «every» → objetivo «effort»: entrenar es subir la barra naranja (y bajar las demás)",
                 fontsize=11.5)
    fig.tight_layout()
    return guardar(fig, destino, "probabilidades_objetivo.png")


def pasos_entropia_cruzada(destino: Path) -> Path:
    """Los seis pasos de los logits a la entropía cruzada, con los valores de las dos frases del cuaderno."""
    fig, ax = nueva_figura(12, 3.3)
    pasos = [
        ("1", "Logits\n(2, 3, 50257)", AZUL),
        ("2", "Probabilidades\nsoftmax", AZUL),
        ("3", "Probabilidades\nde los objetivos\n(6 valores)", NARANJA),
        ("4", "Logaritmo\ntorch.log", VERDE),
        ("5", "Media\n−10.7940", VERDE),
        ("6", "Cambiar el signo\n10.7940", ROJO),
    ]
    ancho, alto, hueco = 1.62, 1.45, 0.36
    for i, (num, texto, color) in enumerate(pasos):
        x = 0.2 + i * (ancho + hueco)
        caja(ax, x, 1.0, ancho, alto, texto, color=color, tamano=10)
        ax.text(x + 0.18, 2.25, num, fontsize=12, fontweight="bold", color=color)
        if i < len(pasos) - 1:
            flecha(ax, x + ancho + 0.02, 1.72, x + ancho + hueco - 0.02, 1.72)
    ax.annotate("", xy=(11.8, 2.85), xytext=(0.2, 2.85),
                arrowprops={"arrowstyle": "->", "color": MORADO, "linewidth": 1.5})
    ax.text(6, 2.98, "torch.nn.functional.cross_entropy(logits_flat, targets_flat) hace los seis pasos de una vez",
            ha="center", fontsize=10, color=MORADO, family="DejaVu Sans Mono")
    ax.text(6, 0.45, "Pérdida de entropía cruzada = media de las probabilidades logarítmicas, con el signo cambiado",
            ha="center", fontsize=10.5, color=GRIS, style="italic")
    return guardar(fig, destino, "pasos_entropia_cruzada.png")


def division_y_cargadores(destino: Path) -> Path:
    """División 90/10 de «The Verdict» y los lotes que salen de cada cargador."""
    fig, ax = nueva_figura(12, 4.6)
    # Barra del texto completo
    ax.add_patch(Rectangle((0.5, 3.4), 9.9, 0.55, color=AZUL, alpha=0.8))
    ax.add_patch(Rectangle((10.4, 3.4), 1.1, 0.55, color=NARANJA, alpha=0.9))
    ax.text(5.45, 3.67, "entrenamiento: 90 % (18 431 caracteres, 4 612 tokens)", ha="center", va="center",
            color="white", fontsize=10.5, fontweight="bold")
    ax.text(10.95, 3.67, "val.\n10 %", ha="center", va="center", color="white", fontsize=8.5, fontweight="bold")
    ax.text(6, 4.2, "«The Verdict»: 20 479 caracteres, 5 145 tokens", ha="center", fontsize=11.5, fontweight="bold")
    # Ventanas de entrenamiento: 18 ventanas de 256 tokens -> 9 lotes de 2
    ancho_v = 9.9 / 18
    for i in range(18):
        color = [AZUL, CELESTE][(i // 2) % 2]
        ax.add_patch(Rectangle((0.5 + i * ancho_v, 2.45), ancho_v * 0.94, 0.45,
                                                                 color=color, alpha=0.85))
    ax.text(5.45, 2.2, "18 ventanas de 256 tokens (stride = 256, sin solapamiento), barajadas → 9 lotes de 2",
            ha="center", va="top", fontsize=10)
    for i in range(2):
        ax.add_patch(Rectangle((10.4 + i * 0.55, 2.45), 0.52, 0.45, color=NARANJA,
                                                                 alpha=0.85))
    ax.text(10.95, 1.75, "2 ventanas\n→ 1 lote", ha="center", fontsize=9.5)
    # Forma de un lote
    caja(ax, 1.5, 0.15, 4.2, 0.95, "entradas x: (2, 256)   objetivos y: (2, 256)\ny = x desplazado una posición",
         color=AZUL, tamano=10)
    caja(ax, 6.6, 0.15, 4.9, 0.95, "train_loader: shuffle=True, drop_last=True\nval_loader: shuffle=False, "
         "drop_last=False", color=GRIS, relleno=GRIS_CLARO, tamano=10)
    return guardar(fig, destino, "division_y_cargadores.png")


FIGURAS = [
    mapa_inicio,
    ciclo_texto_ids,
    vocabulario_7_tokens,
    probabilidades_objetivo,
    pasos_entropia_cruzada,
    division_y_cargadores,
    mapa_siguiente,
]
