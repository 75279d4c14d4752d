"""Figuras de la sección 3: mecanismos de atención (autoatención, consulta-clave-valor, máscara causal, multicabeza).

Las usa seccion03_MecanismosAtencion/1_mecanismos_atencion.ipynb.
Genera con: python imgs/generar_figuras.py seccion03
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import matplotlib.pyplot as plt
import torch
from matplotlib.patches import Circle, FancyArrowPatch, Rectangle

from figuras.estilo import (
    AZUL,
    CELESTE,
    ESTILO,
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

# Los seis tokens del ejemplo del libro y sus embeddings de 3 dimensiones
TOKENS = ["Your", "journey", "starts", "with", "one", "step"]
ENTRADAS = [
    [0.43, 0.15, 0.89],  # Your     (x^1)
    [0.55, 0.87, 0.66],  # journey  (x^2)
    [0.57, 0.85, 0.64],  # starts   (x^3)
    [0.22, 0.58, 0.33],  # with     (x^4)
    [0.77, 0.25, 0.10],  # one      (x^5)
    [0.05, 0.80, 0.55],  # step     (x^6)
]


def _entradas() -> torch.Tensor:
    """Los embeddings del ejemplo como tensor (6, 3)."""
    return torch.tensor(ENTRADAS)


@contextmanager
def _semilla(semilla: int):
    """torch.manual_seed(semilla) solo dentro del bloque: el generador global queda como estaba."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(semilla)
        yield


@torch.no_grad()
def _atencion_causal_789():
    """Puntuaciones, pesos sin máscara, pesos con máscara causal y valores de SelfAttention_v2(3, 2), semilla 789."""
    x = _entradas()
    with _semilla(789):  # como SelfAttention_v2(3, 2): query, key y value, en ese orden
        w_query = torch.nn.Linear(3, 2, bias=False)
        w_key = torch.nn.Linear(3, 2, bias=False)
        w_value = torch.nn.Linear(3, 2, bias=False)
    queries, keys, values = w_query(x), w_key(x), w_value(x)  # (6, 2) cada una
    puntuaciones = queries @ keys.T  # (6, 6)
    d_k = keys.shape[-1]
    pesos = torch.softmax(puntuaciones / d_k**0.5, dim=-1)
    mascara = torch.triu(torch.ones(6, 6, dtype=torch.bool), diagonal=1)
    enmascaradas = puntuaciones.masked_fill(mascara, -torch.inf)
    pesos_causales = torch.softmax(enmascaradas / d_k**0.5, dim=-1)
    return puntuaciones, pesos, mascara, pesos_causales, values


def _texto_celda(valor: float, vmax: float) -> str:
    """Color del texto de una celda de mapa de calor según lo oscuro del fondo."""
    return "white" if valor > 0.55 * vmax else TINTA


def _color_peso(valor: float, vmax: float = 1.0):
    """Color de la escala azul del curso para un peso entre 0 y vmax."""
    return plt.get_cmap("Blues")(0.08 + 0.8 * min(valor / vmax, 1.0))


LADO = 0.6  # lado de una celda de los mapas de calor 6 × 6, en pulgadas


def _mapa(ax, x0, y0, celda, sumas=None, titulo="", tamano=9.5):
    """Mapa de calor 6 × 6 dibujado a mano (filas: consultas; columnas: claves), esquina inferior en (x0, y0)."""
    # celda(fila, col) devuelve (relleno, texto, color del texto, rayado); `sumas`: la suma de cada fila, a la derecha
    for fila in range(6):
        for col in range(6):
            relleno, texto, color_texto, rayado = celda(fila, col)
            x, y = x0 + col * LADO, y0 + (5 - fila) * LADO
            ax.add_patch(Rectangle((x, y), LADO, LADO, facecolor=relleno, linewidth=0, hatch="///" if rayado else None,
                                   edgecolor=ROJO + "88" if rayado else relleno))
            ax.add_patch(Rectangle((x, y), LADO, LADO, facecolor="none", edgecolor="white", linewidth=2))
            ax.text(x + LADO / 2, y + LADO / 2, texto, ha="center", va="center", fontsize=tamano, color=color_texto,
                    bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.8} if rayado else None)
        ax.text(x0 - 0.1, y0 + (5.5 - fila) * LADO, TOKENS[fila], ha="right", va="center", fontsize=10)
        if sumas is not None:
            ax.text(x0 + 6 * LADO + 0.12, y0 + (5.5 - fila) * LADO, f"Σ = {sumas[fila]:.2f}", ha="left",
                    va="center", fontsize=9, color=GRIS)
    for col in range(6):
        ax.text(x0 + (col + 0.5) * LADO, y0 + 6 * LADO + 0.08, TOKENS[col], ha="left", va="bottom", fontsize=10,
                rotation=40, rotation_mode="anchor")
    if titulo:
        ax.text(x0 + 3 * LADO, y0 - 0.2, titulo, ha="center", va="top", fontsize=11.5, fontweight="bold",
                linespacing=1.4)


# ---------------------------------------------------------------------------------------------------------------
# 1. Por qué hace falta la atención
# ---------------------------------------------------------------------------------------------------------------


def traduccion_palabra_a_palabra(destino: Path) -> Path:
    """Traducir palabra por palabra falla por el orden; la RNN comprime la entrada y la atención la mira entera."""
    fig, ax = nueva_figura(15, 10.4)
    aleman = ["Kannst", "du", "mir", "helfen,", "diesen", "Satz", "zu", "übersetzen?"]
    literal = ["Can", "you", "me", "help", "this", "sentence", "to", "translate?"]
    correcta = ["Can", "you", "help", "me", "to", "translate", "this", "sentence?"]
    destino_de = [0, 1, 3, 2, 6, 7, 4, 5]  # posición en la traducción correcta de cada palabra alemana
    x0, paso, ancho, alto = 3.15, 1.47, 1.32, 0.52
    centros = [x0 + i * paso + ancho / 2 for i in range(8)]

    ax.text(0.2, 10.1, "1. Traducir palabra por palabra no funciona: cada idioma ordena las palabras a su manera",
            ha="left", va="center", fontsize=13, fontweight="bold")
    filas = [
        (8.95, "Palabra por palabra  ✗", literal, ROJO),
        (7.45, "Entrada en alemán", aleman, GRIS),
        (5.55, "Traducción correcta  ✓", correcta, VERDE),
    ]
    for y, etiqueta, palabras, color in filas:
        ax.text(0.2, y + alto / 2, etiqueta, ha="left", va="center", fontsize=11.5, color=color, fontweight="bold")
        for i, palabra in enumerate(palabras):
            caja(ax, x0 + i * paso, y, ancho, alto, palabra, color=color,
                 relleno=GRIS_CLARO if color == GRIS else None, tamano=10.5)
    for i in range(8):  # palabra por palabra: cada una se queda en su sitio
        ax.plot([centros[i], centros[i]], [7.45 + alto + 0.04, 8.95 - 0.06], color=ROJO, linewidth=1.3, alpha=0.7)
    for i, j in enumerate(destino_de):  # la traducción correcta cambia el orden: las líneas se cruzan
        cruza = i != j
        ax.plot([centros[i], centros[j]], [7.45 - 0.06, 5.55 + alto + 0.06], color=VERDE,
                linewidth=2.4 if cruza else 1.3, alpha=1 if cruza else 0.6)
    ax.text(9.0, 5.02, "«mir helfen» → «help me»  y  «diesen Satz zu übersetzen» → «to translate this sentence»:\n"
            "para elegir cada palabra hay que mirar otras posiciones de la entrada", ha="center", va="center",
            fontsize=10.5, color=GRIS, style="italic", linespacing=1.4)
    ax.plot([0.2, 14.8], [4.5, 4.5], color=GRIS_CLARO, linewidth=1.5)

    ax.text(0.2, 4.2, "2. Del cuello de botella de la RNN a la atención", ha="left", va="center", fontsize=13,
            fontweight="bold")
    entrada, salida = ["Kannst", "du", "mir", "helfen"], ["Can", "you", "help", "me"]
    y_tok, y_h, y_s, y_out, r = 0.25, 1.55, 2.55, 3.05, 0.24

    def estado(x, y, texto, color, grande=False):
        ax.add_patch(Circle((x, y), r * (1.25 if grande else 1), facecolor=color + "33", edgecolor=color,
                            linewidth=2.2 if grande else 1.6))
        ax.text(x, y, texto, ha="center", va="center", fontsize=10.5 if grande else 10, color=TINTA)

    def codificador(xs):
        for i, (x, palabra) in enumerate(zip(xs, entrada, strict=True)):
            caja(ax, x - 0.48, y_tok, 0.96, 0.42, palabra, color=GRIS, relleno=GRIS_CLARO, tamano=9.5)
            flecha(ax, x, y_tok + 0.44, x, y_h - r - 0.02)
            if i > 0:
                flecha(ax, xs[i - 1] + r, y_h, x - r, y_h)

    def decodificador(xs, color, resaltado=None):
        for i, (x, palabra) in enumerate(zip(xs, salida, strict=True)):
            estado(x, y_s, f"$s_{i + 1}$", color if resaltado in (None, i) else GRIS)
            flecha(ax, x, y_s + r, x, y_out - 0.02)
            ax.text(x, y_out + 0.2, palabra, ha="center", va="center", fontsize=10.5, color=TINTA,
                    fontweight="bold" if resaltado == i else "normal")
            if i > 0:
                flecha(ax, xs[i - 1] + r, y_s, x - r, y_s)

    # Izquierda: RNN codificador-decodificador
    ax.text(0.2, 3.78, "RNN codificador-decodificador: toda la frase cabe en un solo estado oculto",
            ha="left", va="center", fontsize=10.5, color=TINTA)
    xs_cod = [0.8, 1.9, 3.0, 4.1]
    xs_dec = [4.35, 5.25, 6.15, 7.05]
    codificador(xs_cod)
    for i, x in enumerate(xs_cod):
        estado(x, y_h, f"$h_{i + 1}$", ROJO if i == 3 else AZUL, grande=i == 3)
    decodificador(xs_dec, MORADO)
    flecha(ax, xs_cod[3] + 0.1, y_h + r * 1.25 + 0.02, xs_dec[0] - 0.12, y_s - r - 0.02, color=ROJO)
    ax.text(4.45, 1.5, "cuello de botella:\nel decodificador solo\nrecibe $h_4$", ha="left", va="center",
            fontsize=9.5, color=ROJO)

    # Derecha: con atención
    ax.plot([7.85, 7.85], [0.1, 3.95], color=GRIS_CLARO, linewidth=1.5)
    ax.text(8.1, 3.78, "Con atención: cada paso de salida mira toda la entrada",
            ha="left", va="center", fontsize=10.5, color=TINTA)
    xs_cod = [8.75, 10.0, 11.25, 12.5]
    xs_dec = xs_cod
    codificador(xs_cod)
    pesos = [0.05, 0.07, 0.28, 0.60]  # ilustrativos: al escribir «help» importa sobre todo «helfen»
    for x, peso in zip(xs_cod, pesos, strict=True):
        ax.add_patch(FancyArrowPatch((xs_dec[2], y_s - r), (x, y_h + r), arrowstyle="-", linewidth=0.6 + 10 * peso,
                                     color=NARANJA, alpha=0.85, shrinkA=0, shrinkB=0))
    for i, x in enumerate(xs_cod):
        estado(x, y_h, f"$h_{i + 1}$", AZUL)
    decodificador(xs_dec, NARANJA, resaltado=2)
    ax.text(12.95, 2.05, "grosor = peso de\natención al escribir\n«help» (ilustrativo)", ha="left", va="center",
            fontsize=9.5, color=NARANJA)
    return guardar(fig, destino, "traduccion_palabra_a_palabra.png")


# ---------------------------------------------------------------------------------------------------------------
# 2. Autoatención simple: puntuaciones y pesos de «journey»
# ---------------------------------------------------------------------------------------------------------------


def puntuaciones_journey(destino: Path) -> Path:
    """Puntuaciones de atención de la consulta «journey» (productos escalares) y sus pesos tras la softmax."""
    x = _entradas()
    consulta = x[1]  # x^(2), «journey»
    puntuaciones = x @ consulta  # ω_2i = x^(2) · x^(i), forma (6,)
    pesos = torch.softmax(puntuaciones, dim=0)  # α_2i, suman 1
    contexto = pesos @ x  # z^(2) = Σ α_2i x^(i), forma (3,)

    plt.rcParams.update(ESTILO)
    fig, (ax1, ax_medio, ax2) = plt.subplots(1, 3, figsize=(14, 4.9), gridspec_kw={"width_ratios": [1, 0.16, 1]})
    colores = [NARANJA if i == 1 else CELESTE for i in range(6)]
    etiquetas = [f"{t}\n$x^{{({i + 1})}}$" for i, t in enumerate(TOKENS)]
    for ax, valores, titulo, techo in [
        (ax1, puntuaciones, r"Puntuaciones de atención  $\omega_{2i} = x^{(2)} \cdot x^{(i)}$", 1.8),
        (ax2, pesos, r"Pesos de atención  $\alpha_{2i} = \mathrm{softmax}(\omega_2)_i$", 0.3),
    ]:
        ax.bar(range(6), valores.tolist(), color=colores, edgecolor=TINTA, linewidth=0.6, width=0.68)
        for i, v in enumerate(valores.tolist()):
            ax.text(i, v + techo * 0.02, f"{v:.4f}", ha="center", va="bottom", fontsize=10,
                    color=NARANJA if i == 1 else TINTA, fontweight="bold" if i == 1 else "normal")
        ax.set_xticks(range(6), etiquetas)
        ax.set_ylim(0, techo)
        ax.set_title(titulo, fontsize=12.5, pad=12)
    ax1.set_ylabel("puntuación (producto escalar)")
    ax2.set_ylabel("peso (suman 1)")
    ax2.text(5.45, 0.285, f"suma = {pesos.sum().item():.4f}", ha="right", va="top", fontsize=10.5, color=GRIS)
    ax1.text(-0.45, 1.75, "consulta: «journey» = $x^{(2)}$ = [0.55, 0.87, 0.66]", ha="left", va="top",
             fontsize=10.5, color=NARANJA)

    ax_medio.axis("off")
    ax_medio.set_xlim(0, 1)
    ax_medio.set_ylim(0, 1)
    ax_medio.add_patch(FancyArrowPatch((0.05, 0.5), (0.95, 0.5), arrowstyle="-|>", mutation_scale=22,
                                       linewidth=2, color=GRIS))
    ax_medio.text(0.5, 0.57, "softmax", ha="center", va="bottom", fontsize=11, color=GRIS)
    z = ", ".join(f"{v:.4f}" for v in contexto.tolist())
    formula = "$z^{(2)} = \\Sigma_i\\, \\alpha_{2i}\\, x^{(i)}$"
    fig.text(0.5, -0.03, f"Vector de contexto de «journey»:  {formula} = [{z}]",
             ha="center", va="center", fontsize=11.5, color=TINTA)
    fig.tight_layout()
    return guardar(fig, destino, "puntuaciones_journey.png")


# ---------------------------------------------------------------------------------------------------------------
# 3. Consulta, clave y valor
# ---------------------------------------------------------------------------------------------------------------


def _matriz(ax, x, y, filas, cols, color, celda=0.26, fila_resaltada=None, color_resaltado=NARANJA):
    """Rejilla de filas × cols celdas con esquina inferior izquierda en (x, y); devuelve (ancho, alto)."""
    for f in range(filas):
        for c in range(cols):
            resaltada = f == fila_resaltada
            ax.add_patch(
                Rectangle((x + c * celda, y + (filas - 1 - f) * celda), celda, celda,
                          facecolor=(color_resaltado + "99") if resaltada else (color + "40"),
                          edgecolor=color_resaltado if resaltada else color, linewidth=1.0)
            )
    return cols * celda, filas * celda


def _etiqueta(ax, x, y, texto, color=TINTA, tamano=11, **kw):
    """Texto centrado en (x, y)."""
    ax.text(x, y, texto, ha="center", va="center", fontsize=tamano, color=color, **kw)


def _forma_texto(ax, x, y, texto, tamano=9.5, color=GRIS):
    """Forma de un tensor, monoespaciada y centrada en (x, y)."""
    ax.text(x, y, texto, ha="center", va="center", fontsize=tamano, color=color, family="DejaVu Sans Mono")


def consulta_clave_valor(destino: Path) -> Path:
    """De los embeddings X a las consultas, claves y valores, y de ahí al vector de contexto de un token."""
    fig, ax = nueva_figura(17, 9.0)
    c = 0.26  # lado de una celda
    y_q, y_k, y_v = 7.45, 4.7, 1.95  # centros de las tres ramas

    # Entradas X (6, 3), con la fila de «journey» resaltada
    xx, yx = 1.35, y_k - 3 * c
    _matriz(ax, xx, yx, 6, 3, GRIS, c, fila_resaltada=1)
    for i, t in enumerate(TOKENS):
        ax.text(xx - 0.12, yx + (5.5 - i) * c, t, ha="right", va="center", fontsize=9.5,
                color=NARANJA if i == 1 else TINTA)
    _etiqueta(ax, xx + 1.5 * c, yx + 6 * c + 0.28, "Entradas X", tamano=11.5, fontweight="bold")
    _forma_texto(ax, xx + 1.5 * c, yx - 0.3, "(6, 3)")
    ax.text(0.2, 7.75, "$W_q$, $W_k$, $W_v$: tres\nmatrices entrenables,\nnn.Linear(3, 2, bias=False)", ha="left",
            va="center", fontsize=9.5, color=GRIS, linespacing=1.4)

    # Tres ramas: X @ W = Q, K, V
    ramas = [(y_q, "q", "Consultas Q", AZUL), (y_k, "k", "Claves K", VERDE), (y_v, "v", "Valores V", MORADO)]
    xw, xr = 3.75, 5.0
    for yc, letra, nombre, color in ramas:
        flecha(ax, xx + 3 * c + 0.12, y_k, xw - 0.62, yc, color=GRIS)
        _etiqueta(ax, xw - 0.32, yc, "X @", tamano=11.5)
        _matriz(ax, xw, yc - 1.5 * c, 3, 2, color, c)
        _etiqueta(ax, xw + c, yc + 1.5 * c + 0.25, f"$W_{letra}$", color=color, tamano=12)
        _forma_texto(ax, xw + c, yc - 1.5 * c - 0.25, "(3, 2)")
        _etiqueta(ax, (xw + 2 * c + xr) / 2, yc, "=", tamano=15)
        _matriz(ax, xr, yc - 3 * c, 6, 2, color, c, fila_resaltada=1 if letra == "q" else None)
        _etiqueta(ax, xr + c, yc + 3 * c + 0.25, nombre, color=color, tamano=11, fontweight="bold")
        _forma_texto(ax, xr + c, yc - 3 * c - 0.28, "(6, 3) @ (3, 2) → (6, 2)", tamano=9)

    # q^(2) y las claves
    x_q = 7.3
    flecha(ax, xr + 2 * c + 0.08, y_q + 1.5 * c, x_q - 0.12, y_q, color=NARANJA)
    _matriz(ax, x_q, y_q - c / 2, 1, 2, NARANJA, c, fila_resaltada=0)
    _etiqueta(ax, x_q + c, y_q + 0.42, "$q^{(2)}$: consulta de «journey»", color=NARANJA, tamano=11)
    _forma_texto(ax, x_q + c, y_q - 0.38, "(2,)")
    x_kt = 7.3
    flecha(ax, xr + 2 * c + 0.08, y_k, x_kt - 0.12, y_k, color=VERDE)
    _matriz(ax, x_kt, y_k - c, 2, 6, VERDE, c)
    _etiqueta(ax, x_kt + 3 * c, y_k + c + 0.3, "$K^T$: claves de los 6 tokens", color=VERDE, tamano=11)
    _forma_texto(ax, x_kt + 3 * c, y_k - c - 0.28, "(2, 6)")

    # Columna de la derecha: puntuaciones → escala y softmax → pesos → suma ponderada de los valores
    x_col, ancho_col = 11.6, 3.3
    centro = x_col + ancho_col / 2

    def paso(y0, alto, lineas, color):
        caja(ax, x_col, y0, ancho_col, alto, "", color=color)
        for j, (texto, mono) in enumerate(lineas):
            y = y0 + alto / 2 + (len(lineas) / 2 - j - 0.5) * 0.3
            if mono:
                _forma_texto(ax, centro, y, texto, tamano=9)
            else:
                _etiqueta(ax, centro, y, texto, tamano=10.5)

    def celdas(y, color, etiqueta, forma):
        _matriz(ax, centro - 3 * c, y - c / 2, 1, 6, color, c)
        ax.text(centro + 3 * c + 0.25, y + 0.1, etiqueta, ha="left", va="bottom", fontsize=11, color=color)
        ax.text(centro + 3 * c + 0.25, y - 0.05, forma, ha="left", va="top", fontsize=9, color=GRIS,
                family="DejaVu Sans Mono")

    paso(6.95, 1.0, [("$\\omega_2 = q^{(2)}\\, K^T$", False), ("puntuaciones de atención", False),
                     ("(2,) @ (2, 6) → (6,)", True)], NARANJA)
    flecha(ax, x_q + 2 * c + 0.1, y_q, x_col - 0.04, y_q, color=NARANJA)
    flecha(ax, x_kt + 6 * c + 0.1, y_k, x_col + 0.3, 6.93, color=VERDE)
    flecha(ax, centro, 6.95, centro, 6.1 + c / 2 + 0.04, color=NARANJA)
    celdas(6.1, NARANJA, "$\\omega_2$", "(6,)")
    flecha(ax, centro, 6.1 - c / 2 - 0.04, centro, 5.37, color=NARANJA)
    paso(4.35, 1.0, [("softmax$(\\omega_2 / \\sqrt{d_k})$", False), ("$d_k = 2$: dimensión de las claves", False)],
         ROJO)
    flecha(ax, centro, 4.35, centro, 3.6 + c / 2 + 0.04, color=ROJO)
    celdas(3.6, ROJO, "$\\alpha_2$: pesos de atención", "(6,), suman 1")
    flecha(ax, centro, 3.6 - c / 2 - 0.04, centro, 2.47, color=ROJO)
    paso(1.45, 1.0, [("$z^{(2)} = \\Sigma_i\\, \\alpha_{2i}\\, v^{(i)} = \\alpha_2$ @ V", False),
                     ("(6,) @ (6, 2) → (2,)", True)], MORADO)
    flecha(ax, xr + 2 * c + 0.08, y_v, x_col - 0.04, y_v, color=MORADO)
    ax.text((xr + 2 * c + x_col) / 2, y_v + 0.12, "los valores $v^{(i)}$ de los 6 tokens", ha="center", va="bottom",
            fontsize=10, color=MORADO)
    flecha(ax, centro, 1.45, centro, 0.75 + c / 2 + 0.04, color=MORADO)
    _matriz(ax, centro - c, 0.75 - c / 2, 1, 2, MORADO, c, fila_resaltada=0, color_resaltado=MORADO)
    ax.text(centro + c + 0.25, 0.75, "$z^{(2)}$: vector de contexto  (2,)", ha="left", va="center",
            fontsize=11, color=MORADO, fontweight="bold")
    ax.text(0.2, 0.3, "Para los 6 tokens a la vez:  Z = softmax(Q Kᵀ / √d_k) V,   (6, 6) @ (6, 2) → (6, 2)",
            ha="left", va="center", fontsize=10.5, color=GRIS, style="italic")
    return guardar(fig, destino, "consulta_clave_valor.png")


# ---------------------------------------------------------------------------------------------------------------
# 4. Máscara causal y dropout
# ---------------------------------------------------------------------------------------------------------------


def mascara_causal_pasos(destino: Path) -> Path:
    """Pesos sin máscara, puntuaciones con −∞ sobre la diagonal y pesos causales (SelfAttention_v2, semilla 789)."""
    puntuaciones, pesos, mascara, pesos_causales, _ = _atencion_causal_789()
    fig, ax = nueva_figura(17.4, 6.0)
    y0 = 1.0

    def sin_mascara(fila, col):
        v = pesos[fila, col].item()
        return _color_peso(v), f"{v:.2f}", _texto_celda(v, 1.0), False

    def con_menos_infinito(fila, col):
        if mascara[fila, col]:
            return GRIS_CLARO, "−∞", ROJO, False
        v = puntuaciones[fila, col].item()
        return plt.get_cmap("Oranges")(0.08 + 1.3 * max(v, 0.0)), f"{v:.2f}", _texto_celda(v, 0.8), False

    def causales(fila, col):
        if mascara[fila, col]:
            return GRIS_CLARO, "0.00", GRIS, False
        v = pesos_causales[fila, col].item()
        return _color_peso(v), f"{v:.2f}", _texto_celda(v, 1.0), False

    _mapa(ax, 1.05, y0, sin_mascara, pesos.sum(dim=1).tolist(),
          "1. Sin máscara: softmax(QKᵀ / √d_k)\ncada token mira también los siguientes")
    _mapa(ax, 7.0, y0, con_menos_infinito, None, "2. Puntuaciones QKᵀ con −∞\nencima de la diagonal")
    _mapa(ax, 12.55, y0, causales, pesos_causales.sum(dim=1).tolist(),
          "3. softmax(· / √d_k): pesos causales\ncada fila suma 1")
    flecha(ax, 7.0 + 6 * LADO + 0.15, y0 + 3 * LADO, 12.55 - 0.95, y0 + 3 * LADO, color=GRIS)
    ax.text((7.0 + 6 * LADO + 12.55 - 0.8) / 2, y0 + 3 * LADO + 0.12, "softmax", ha="center", va="bottom",
            fontsize=10.5, color=GRIS)
    ax.text(0.2, 5.85, "Filas: consultas (el token que mira).  Columnas: claves (los tokens que se miran).  "
            "SelfAttention_v2(3, 2) con torch.manual_seed(789), d_k = 2", ha="left", va="center", fontsize=10.5,
            color=GRIS)
    return guardar(fig, destino, "mascara_causal_pasos.png")


def dropout_atencion(destino: Path) -> Path:
    """Los pesos causales antes y después de un dropout con p = 0.5 en modo entrenamiento (semilla 123)."""
    _, _, mascara, pesos_causales, _ = _atencion_causal_789()
    dropout = torch.nn.Dropout(0.5)  # un módulo nuevo está en modo entrenamiento
    with _semilla(123):
        tras_dropout = dropout(pesos_causales)
    supervivientes = int(((tras_dropout > 0) & ~mascara).sum().item())
    media = tras_dropout.sum(dim=1).mean().item()

    fig, ax = nueva_figura(12.6, 6.9)
    y0 = 2.35

    def antes(fila, col):
        if mascara[fila, col]:
            return GRIS_CLARO, "0", GRIS, False
        v = pesos_causales[fila, col].item()
        return _color_peso(v), f"{v:.2f}", _texto_celda(v, 1.0), False

    def despues(fila, col):
        if mascara[fila, col]:
            return GRIS_CLARO, "0", GRIS, False
        v = tras_dropout[fila, col].item()
        if v == 0.0:
            return "white", "0", ROJO, True
        return _color_peso(v, 2.0), f"{v:.2f}", _texto_celda(v, 2.0), False

    _mapa(ax, 1.05, y0, antes, pesos_causales.sum(dim=1).tolist(),
          "Pesos causales\n(así quedan en modo evaluación)", tamano=10)
    _mapa(ax, 7.45, y0, despues, tras_dropout.sum(dim=1).tolist(),
          f"Tras Dropout(0.5) en modo entrenamiento\nmedia de las 6 sumas: {media:.2f} (se espera 1)", tamano=10)
    flecha(ax, 1.05 + 6 * LADO + 1.0, y0 + 3 * LADO, 7.45 - 0.95, y0 + 3 * LADO, color=ROJO)
    ax.text((1.05 + 6 * LADO + 1.0 + 7.45 - 0.95) / 2, y0 + 3 * LADO + 0.12, "dropout", ha="center", va="bottom",
            fontsize=10.5, color=ROJO)
    ax.text(6.3, 0.75,
            "Cada peso se anula con probabilidad p = 0.5 (con torch.manual_seed(123) sobreviven "
            f"{supervivientes} de los 21 visibles)\ny los que quedan se multiplican por 1/(1 − p) = 2. Así no cambia el valor esperado de cada "
            "peso ni el de\nla suma de cada fila (1), aunque una fila concreta sume más o menos que 1.",
            ha="center", va="center", fontsize=10.5, color=TINTA, linespacing=1.5)
    return guardar(fig, destino, "dropout_atencion.png")


# ---------------------------------------------------------------------------------------------------------------
# 5. Atención multicabeza
# ---------------------------------------------------------------------------------------------------------------


def atencion_multicabeza(destino: Path) -> Path:
    """Dos cabezas de atención causal, cada una con sus W_q, W_k, W_v, y la concatenación de sus salidas."""
    fig, ax = nueva_figura(14, 9.9)
    c = 0.26
    # Entrada común
    xe, ye = 7.0 - 1.5 * c, 8.1
    _matriz(ax, xe, ye, 6, 3, GRIS, c)
    ax.text(xe - 0.25, ye + 3 * c, "Entradas X\n6 tokens, d_in = 3", ha="right", va="center", fontsize=11)
    _forma_texto(ax, xe + 3 * c + 0.6, ye + 3 * c, "(6, 3)", tamano=10)
    ax.text(xe + 3 * c + 1.3, ye + 3 * c, "las dos cabezas reciben la misma entrada", ha="left", va="center",
            fontsize=10, color=GRIS, style="italic")

    cabezas = [(0.9, "1", AZUL), (7.6, "2", NARANJA)]
    ancho, abajo, arriba = 5.5, 2.3, 7.45
    for x0, num, color in cabezas:
        centro = x0 + ancho / 2
        ax.add_patch(Rectangle((x0, abajo), ancho, arriba - abajo, facecolor=color + "0D", edgecolor=color,
                               linewidth=1.6))
        ax.text(x0 + 0.25, arriba - 0.35, f"Cabeza de atención {num}", ha="left", va="center", fontsize=12,
                fontweight="bold", color=color)
        flecha(ax, 7.0, ye - 0.08, centro, arriba + 0.05, color=GRIS)
        for j, letra in enumerate(["q", "k", "v"]):
            xb = x0 + 0.35 + j * 1.7
            caja(ax, xb, 6.0, 1.4, 0.65, f"$W_{letra}^{{({num})}}$  (3, 2)", color=color, tamano=10.5)
            flecha(ax, xb + 0.7, 6.0, centro + (j - 1) * 0.25, 5.42, color=color)
        caja(ax, x0 + 0.55, 4.55, ancho - 1.1, 0.85, "atención causal\nsoftmax(QKᵀ / √d_k + máscara) V",
             color=color, tamano=10.5)
        flecha(ax, centro, 4.53, centro, 4.15, color=color)
        _matriz(ax, centro - c, 2.5, 6, 2, color, c)
        ax.text(centro + c + 0.3, 2.5 + 3 * c, f"$Z^{{({num})}}$: vectores de contexto\nde la cabeza {num}  (6, 2)",
                ha="left", va="center", fontsize=10.5, color=color, linespacing=1.4)

    # Concatenación
    xz, yz = 7.0 - 2 * c, 0.25
    for f in range(6):
        for col in range(4):
            color = AZUL if col < 2 else NARANJA
            ax.add_patch(Rectangle((xz + col * c, yz + (5 - f) * c), c, c, facecolor=color + "55", edgecolor=color,
                                   linewidth=1.0))
    for x0, _, color in cabezas:
        derecha = x0 > 5
        flecha(ax, x0 + ancho / 2, abajo - 0.08, 7.0 + (0.3 if derecha else -0.3), yz + 6 * c + 0.1, color=color)
    ax.text(xz - 0.3, yz + 3 * c + 0.22, "MultiHeadAttentionWrapper concatena las salidas:", ha="right",
            va="center", fontsize=10.5, color=TINTA)
    ax.text(xz - 0.3, yz + 3 * c - 0.2, "torch.cat([head(x) for head in self.heads], dim=-1)", ha="right", va="center",
            fontsize=10, family="DejaVu Sans Mono", color=TINTA)
    ax.text(xz + 4 * c + 0.3, yz + 3 * c, "(6, 2 + 2) = (6, 4): un vector de contexto\nde 4 números por token",
            ha="left", va="center", fontsize=10.5, color=TINTA, linespacing=1.4)
    return guardar(fig, destino, "atencion_multicabeza.png")


def _bloque(ax, x, y, ancho, alto, colores, separacion=0.0):
    """Un tensor dibujado como bloque partido en tantas franjas verticales como colores (una por cabeza)."""
    ancho_franja = (ancho - separacion * (len(colores) - 1)) / len(colores)
    for i, color in enumerate(colores):
        ax.add_patch(Rectangle((x + i * (ancho_franja + separacion), y), ancho_franja, alto, facecolor=color + "55",
                               edgecolor=color, linewidth=1.4))


def _pila(ax, x, y, ancho, alto, colores, desplazamiento=0.17, triangulo=False):
    """Varias cartas apiladas (una por cabeza); con `triangulo`, cada una lleva la máscara causal."""
    for i, color in reversed(list(enumerate(colores))):
        xi, yi = x + i * desplazamiento, y + i * desplazamiento
        ax.add_patch(Rectangle((xi, yi), ancho, alto, facecolor="white", edgecolor=color, linewidth=1.4))
        ax.add_patch(Rectangle((xi, yi), ancho, alto, facecolor=color + "40", edgecolor=color, linewidth=1.4))
        if triangulo:
            ax.fill([xi + 0.04 * ancho, xi + ancho - 0.04 * ancho, xi + ancho - 0.04 * ancho],
                    [yi + alto - 0.04 * alto, yi + alto - 0.04 * alto, yi + 0.04 * alto], color=GRIS_CLARO,
                    zorder=3)


def multicabeza_eficiente_formas(destino: Path) -> Path:
    """MultiHeadAttention eficiente: una proyección de d_out partida en cabezas con view y transpose."""
    fig, ax = nueva_figura(15.4, 11.85)
    dos = [AZUL, NARANJA]
    xd = 6.45  # columna de los dibujos
    filas = [
        ("Entrada x", "(b, num_tokens, d_in)", "(2, 6, 3)", lambda y: _bloque(ax, xd, y, 0.9, 0.6, [GRIS])),
        ("Una sola proyección para todas las cabezas:\nqueries = W_query(x)  (igual keys y values)",
         "(b, num_tokens, d_out)", "(2, 6, 2)", lambda y: _bloque(ax, xd, y, 1.6, 0.6, dos)),
        ("view: parte d_out en num_heads × head_dim", "(b, num_tokens, num_heads, head_dim)", "(2, 6, 2, 1)",
         lambda y: _bloque(ax, xd, y, 1.6, 0.6, dos, separacion=0.25)),
        ("transpose(1, 2): las cabezas delante,\ncada una con sus num_tokens filas",
         "(b, num_heads, num_tokens, head_dim)", "(2, 2, 6, 1)", lambda y: _pila(ax, xd, y - 0.1, 0.68, 0.6, dos)),
        ("Puntuaciones: queries @ keys.transpose(2, 3);\nmáscara causal (−∞), softmax(· / √head_dim), dropout",
         "(b, num_heads, num_tokens, num_tokens)", "(2, 2, 6, 6)",
         lambda y: _pila(ax, xd, y - 0.1, 0.6, 0.6, dos, triangulo=True)),
        ("Pesos @ values: los vectores de contexto\nde cada cabeza", "(b, num_heads, num_tokens, head_dim)",
         "(2, 2, 6, 1)", lambda y: _pila(ax, xd, y - 0.1, 0.68, 0.6, dos)),
        ("transpose(1, 2) y contiguous().view:\nvuelve a juntar las cabezas", "(b, num_tokens, d_out)", "(2, 6, 2)",
         lambda y: _bloque(ax, xd, y, 1.6, 0.6, dos)),
        ("out_proj: capa lineal d_out → d_out\nque mezcla lo que ha visto cada cabeza", "(b, num_tokens, d_out)",
         "(2, 6, 2)", lambda y: _bloque(ax, xd, y, 1.6, 0.6, [VERDE])),
    ]
    y, paso = 9.35, 1.25
    x_forma, x_ejemplo = 8.6, 13.4
    ax.text(x_forma, y + 1.05, "Forma", ha="left", va="center", fontsize=11, fontweight="bold")
    ax.text(x_ejemplo, y + 1.05, "Ejemplo", ha="left", va="center", fontsize=11, fontweight="bold")
    for i, (texto, forma, ejemplo, dibujar) in enumerate(filas):
        ax.text(xd - 0.4, y + 0.3, texto, ha="right", va="center", fontsize=10.5, color=TINTA, linespacing=1.35)
        dibujar(y)
        ax.text(x_forma, y + 0.3, forma, ha="left", va="center", fontsize=10.5, family="DejaVu Sans Mono",
                color=TINTA)
        ax.text(x_ejemplo, y + 0.3, ejemplo, ha="left", va="center", fontsize=10.5, family="DejaVu Sans Mono",
                color=GRIS)
        if i < len(filas) - 1:
            flecha(ax, xd + 0.45, y - 0.14, xd + 0.45, y - paso + 0.74)
        y -= paso
    ax.text(7.7, 11.5, "Atención multicabeza eficiente: head_dim = d_out / num_heads", ha="center", va="center",
            fontsize=12.5, fontweight="bold")
    ax.text(7.7, 11.05, "Aquí num_heads = 2 (azul y naranja). Los productos de todas las cabezas se hacen a la vez, "
            "en una sola operación por lotes.", ha="center", va="center", fontsize=10.5, color=GRIS, style="italic")
    ax.text(7.7, 0.15, "Ejemplo: b = 2, num_tokens = 6, d_in = 3, d_out = 2, num_heads = 2, así que head_dim = 1",
            ha="center", va="center", fontsize=10.5, color=GRIS)
    return guardar(fig, destino, "multicabeza_eficiente_formas.png")


# ---------------------------------------------------------------------------------------------------------------
# 6. Por qué se divide entre √d_k
# ---------------------------------------------------------------------------------------------------------------


@torch.no_grad()
def softmax_escalado(destino: Path) -> Path:
    """Con d_k grande, el producto escalar crece como √d_k y la softmax sin escalar se vuelve casi one-hot."""
    dims = [2, 8, 32, 128, 512, 768]
    filas = 10_000  # filas de 6 tokens por cada d_k
    desviaciones, escaladas, max_sin, max_con = [], [], [], []
    with _semilla(123):
        muestras = [(torch.randn(filas, 1, d_k), torch.randn(filas, 6, d_k)) for d_k in dims]
    for d_k, (q, k) in zip(dims, muestras, strict=True):  # q: una consulta por fila; k: seis claves; varianza 1
        puntuaciones = (q * k).sum(dim=-1)  # (filas, 6)
        desviaciones.append(puntuaciones.std().item())
        escaladas.append((puntuaciones / d_k**0.5).std().item())
        max_sin.append(torch.softmax(puntuaciones, dim=-1).max(dim=-1).values.mean().item())
        max_con.append(torch.softmax(puntuaciones / d_k**0.5, dim=-1).max(dim=-1).values.mean().item())

    plt.rcParams.update(ESTILO)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13, 5))
    ax1.plot(dims, [d**0.5 for d in dims], color=GRIS, linewidth=1.5, linestyle="--", label="√d_k")
    ax1.plot(dims, desviaciones, "o", color=AZUL, markersize=7, label="q · k, medida (10 000 filas)")
    ax1.plot(dims, escaladas, "s-", color=VERDE, markersize=6, linewidth=1.5,
             label=f"q · k / √d_k: entre {min(escaladas):.2f} y {max(escaladas):.2f}")
    for d, s in zip(dims, desviaciones, strict=True):
        ax1.annotate(f"{s:.2f}", (d, s), textcoords="offset points", xytext=(-8, 8), ha="right", fontsize=9.5,
                     color=AZUL)
    ax1.set_title("Desviación estándar de q · k")
    ax1.set_ylim(0, 30)
    ax1.set_ylabel("desviación estándar de la puntuación")
    ax1.legend(frameon=False, loc="upper left")

    ax2.axhline(1 / 6, color=GRIS, linewidth=1, linestyle=":")
    ax2.text(2, 1 / 6 + 0.015, "1/6: pesos uniformes", fontsize=9.5, color=GRIS, va="bottom")
    ax2.axhline(1.0, color=GRIS, linewidth=1, linestyle=":")
    ax2.text(2, 0.985, "1: un solo token se lleva todo el peso", fontsize=9.5, color=GRIS, va="top")
    ax2.plot(dims, max_sin, "o-", color=ROJO, linewidth=2)
    ax2.plot(dims, max_con, "o-", color=VERDE, linewidth=2)
    for d, a, b in zip(dims, max_sin, max_con, strict=True):
        primero = d == dims[0]  # ahí las dos curvas están cerca: la roja lleva el número encima
        ax2.annotate(f"{a:.2f}", (d, a), textcoords="offset points", xytext=(0, 8 if primero else -15),
                     ha="center", fontsize=9, color=ROJO)
        ax2.annotate(f"{b:.2f}", (d, b), textcoords="offset points", xytext=(0, -15 if primero else 8),
                     ha="center", fontsize=9, color=VERDE)
    ax2.text(40, 0.70, "sin escalar: softmax(q · k)", ha="left", va="center", fontsize=10.5, color=ROJO,
             fontweight="bold")
    ax2.text(40, 0.50, "escalada: softmax(q · k / √d_k)", ha="left", va="bottom", fontsize=10.5, color=VERDE,
             fontweight="bold")
    ax2.set_ylim(0, 1.05)
    ax2.set_title("Peso de atención máximo de cada fila (promedio)")
    ax2.set_ylabel("peso máximo entre 6 tokens")
    for ax in (ax1, ax2):
        ax.set_xscale("log")
        ax.set_xlim(1.2, 1000)
        ax.set_xticks(dims, [str(d) for d in dims])
        ax.minorticks_off()
        ax.set_xlabel("dimensión de las consultas y claves, d_k (escala logarítmica)")
    fig.text(0.5, -0.02, "q y k con entradas aleatorias de varianza 1 (torch.manual_seed(123)). Sin escalar, la "
             "softmax casi elige un solo token y sus gradientes se vuelven diminutos.", ha="center", va="top",
             fontsize=10.5, color=GRIS, style="italic")
    fig.tight_layout()
    return guardar(fig, destino, "softmax_escalado.png")


FIGURAS = [
    traduccion_palabra_a_palabra,
    puntuaciones_journey,
    consulta_clave_valor,
    softmax_escalado,
    mascara_causal_pasos,
    dropout_atencion,
    atencion_multicabeza,
    multicabeza_eficiente_formas,
]
