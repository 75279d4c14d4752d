"""Figuras de la sección 4: la arquitectura GPT, sus bloques y la generación voraz.

Las usa seccion04_ImplementacionGPTGeneracionTexto/1_implementacion_gpt.ipynb.
Genera con: python imgs/generar_figuras.py seccion04
"""

from __future__ import annotations

from pathlib import Path

from matplotlib.patches import FancyArrowPatch, Rectangle

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


def _forma(ax, x, y, texto, tamano=10):
    """Forma de un tensor, en gris y monoespaciada, alineada a la izquierda en (x, y)."""
    ax.text(x, y, texto, ha="left", va="center", fontsize=tamano, color=GRIS, family="DejaVu Sans Mono")


def _curva(ax, x0, y0, x1, y1, rad, color=GRIS):
    """Flecha curva de (x0, y0) a (x1, y1) (para los atajos y el bucle de generación)."""
    ax.add_patch(
        FancyArrowPatch(
            (x0, y0), (x1, y1), connectionstyle=f"arc3,rad={rad}", arrowstyle="-|>",
            mutation_scale=16, linewidth=1.8, color=color,
        )
    )


def _atajo(ax, x0, y0, x_lado, y1, x1, color=NARANJA):
    """Atajo en ángulo recto: de (x0, y0) sale hacia x_lado, sube hasta y1 y entra en (x1, y1)."""
    ax.plot([x0, x_lado, x_lado], [y0, y0, y1], color=color, linewidth=1.8, solid_capstyle="round")
    flecha(ax, x_lado, y1, x1, y1, color=color)


def arquitectura_gpt(destino: Path) -> Path:
    """La pila completa de GPT-2 (124M), de los ids de los tokens a los logits, con la forma de cada paso."""
    fig, ax = nueva_figura(10, 13.4)
    xc, ancho = 0.9, 4.6  # columna de las cajas
    centro = xc + ancho / 2
    xf = 6.9  # columna de las formas

    caja(ax, xc, 12.45, ancho, 0.6, "Texto: «Every effort moves you»", color=GRIS, relleno=GRIS_CLARO)
    flecha(ax, centro, 12.45, centro, 12.1)
    caja(ax, xc, 11.5, ancho, 0.6, "Tokenizador BPE (GPT-2)", color=GRIS, relleno=GRIS_CLARO)
    flecha(ax, centro, 11.5, centro, 11.15)
    _forma(ax, xf, 11.32, "ids: (b, n)")

    caja(ax, xc, 10.5, 2.2, 0.65, "Embedding de\ntokens", color=AZUL, tamano=10)
    caja(ax, xc + 2.4, 10.5, 2.2, 0.65, "Embedding de\nposición", color=CELESTE, tamano=10)
    _forma(ax, xf, 10.82, "(b, n, 768) + (n, 768)")
    flecha(ax, xc + 1.1, 10.5, centro - 0.15, 10.1)
    flecha(ax, xc + 3.5, 10.5, centro + 0.15, 10.1)
    ax.text(centro, 9.92, "+", ha="center", va="center", fontsize=18, fontweight="bold")
    flecha(ax, centro, 9.72, centro, 9.42)
    caja(ax, xc, 8.85, ancho, 0.55, "Dropout", color=GRIS, relleno=GRIS_CLARO)
    _forma(ax, xf, 9.12, "(b, n, 768)")

    # Los 12 bloques transformer, dibujados como una pila de tarjetas, con sus dos atajos
    arriba, alto_bloque = 8.4, 5.5
    abajo = arriba - alto_bloque
    x_bloque, ancho_bloque = xc - 0.25, ancho + 0.85
    flecha(ax, centro, 8.85, centro, arriba + 0.02)
    for desplazamiento in (0.24, 0.12):
        ax.add_patch(
            Rectangle((x_bloque + desplazamiento, abajo + desplazamiento), ancho_bloque, alto_bloque,
                      facecolor="white", edgecolor=NARANJA, linewidth=1.2)
        )
    ax.add_patch(
        Rectangle((x_bloque, abajo), ancho_bloque, alto_bloque, facecolor=NARANJA + "18", edgecolor=NARANJA,
                  linewidth=1.8)
    )
    ax.text(x_bloque + 0.28, abajo + alto_bloque / 2, "Bloque transformer  × 12", ha="center", va="center",
            fontsize=11, fontweight="bold", color=NARANJA, rotation=90)
    x_caja, ancho_caja, alto, hueco = xc + 0.35, ancho - 0.7, 0.42, 0.22
    x_atajo = x_caja + ancho_caja + 0.4

    def mitad(y_rama, pasos):
        """Tres cajas hacia abajo desde y_rama - 0.25, el ⊕ y el atajo que las rodea; devuelve la y del ⊕."""
        y = y_rama - 0.25
        for i, (texto, color) in enumerate(pasos):
            y -= alto
            caja(ax, x_caja, y, ancho_caja, alto, texto, color=color, tamano=9.5,
                 relleno=GRIS_CLARO if color == GRIS else None)
            if i < len(pasos) - 1:
                flecha(ax, centro, y, centro, y - hueco)
                y -= hueco
        y_suma = y - 0.35
        flecha(ax, centro, y, centro, y_suma + 0.14)
        ax.text(centro, y_suma, "⊕", ha="center", va="center", fontsize=20, color=NARANJA)
        _atajo(ax, centro, y_rama, x_atajo, y_suma, centro + 0.16)
        ax.text(x_atajo + 0.17, (y_rama + y_suma) / 2, "atajo", ha="center", va="center", fontsize=9.5,
                color=NARANJA, style="italic", rotation=90)
        return y_suma

    y_rama1 = arriba - 0.25
    flecha(ax, centro, arriba, centro, y_rama1 - 0.25)
    y_suma1 = mitad(y_rama1, [("LayerNorm 1", VERDE), ("Atención multicabeza causal", ROJO), ("Dropout", GRIS)])
    y_rama2 = y_suma1 - 0.35
    flecha(ax, centro, y_suma1 - 0.14, centro, y_rama2 - 0.25)
    y_suma2 = mitad(y_rama2, [("LayerNorm 2", VERDE), ("Feed-forward (768 → 3072 → 768)", MORADO), ("Dropout", GRIS)])
    ax.plot([centro, centro], [y_suma2 - 0.14, abajo], color=GRIS, linewidth=1.6)
    _forma(ax, xf, abajo + alto_bloque / 2, "(b, n, 768)\nentra y sale\ncon la misma forma")

    flecha(ax, centro, abajo, centro, 2.15)
    caja(ax, xc, 1.55, ancho, 0.6, "LayerNorm final", color=VERDE)
    _forma(ax, xf, 1.85, "(b, n, 768)")
    flecha(ax, centro, 1.55, centro, 1.2)
    caja(ax, xc, 0.6, ancho, 0.6, "Cabeza de salida (lineal, sin sesgo)", color=AZUL)
    _forma(ax, xf, 0.9, "logits: (b, n, 50257)")
    flecha(ax, centro, 0.6, centro, 0.25)
    ax.text(centro, 0.05, "Un logit por cada token del vocabulario, en cada posición", ha="center", va="center",
            fontsize=10, color=TINTA)
    ax.set_title("GPT-2 (124M): de los ids de los tokens a los logits")
    return guardar(fig, destino, "arquitectura_gpt.png")


def flujo_datos(destino: Path) -> Path:
    """Un lote de dos textos a su paso por el modelo: ids, embeddings, bloques y logits."""
    fig, ax = nueva_figura(15, 4.4)
    columnas = [
        ("Textos", "«Every effort moves you»\n«Every day holds a»", "2 textos", GRIS),
        ("Ids de tokens", "[[6109, 3626, 6100,  345],\n [6109, 1110, 6622,  257]]", "(2, 4)", AZUL),
        ("Embeddings\n(token + posición)", "un vector de 768\nnúmeros por token", "(2, 4, 768)", CELESTE),
        ("12 bloques\ntransformer", "cada token mira a\nlos anteriores", "(2, 4, 768)", NARANJA),
        ("LayerNorm final y\ncabeza de salida", "un logit por cada\ntoken del vocabulario", "(2, 4, 50257)", VERDE),
    ]
    ancho, hueco, x = 2.6, 0.45, 0.15
    for i, (titulo, contenido, forma, color) in enumerate(columnas):
        ax.text(x + ancho / 2, 3.95, titulo, ha="center", va="center", fontsize=11, fontweight="bold", color=color)
        caja(ax, x, 1.6, ancho, 1.7, contenido, color=color, tamano=9.5)
        ax.text(x + ancho / 2, 1.05, forma, ha="center", va="center", fontsize=11, family="DejaVu Sans Mono",
                color=TINTA)
        if i < len(columnas) - 1:
            flecha(ax, x + ancho + 0.05, 2.45, x + ancho + hueco - 0.05, 2.45)
        x += ancho + hueco
    ax.text(7.5, 0.3, "b = 2 textos del lote,  n = 4 tokens por texto,  768 = emb_dim,  50 257 = vocab_size",
            ha="center", va="center", fontsize=10, color=GRIS)
    return guardar(fig, destino, "flujo_datos.png")


def bloque_transformer(destino: Path) -> Path:
    """El bloque transformer con normalización previa (pre-norm) y sus dos atajos."""
    fig, ax = nueva_figura(7.5, 9.4)
    xc, ancho = 1.6, 3.6
    centro = xc + ancho / 2

    ax.text(centro, 9.15, "Salida  (b, n, emb_dim)", ha="center", va="center", fontsize=11, family="DejaVu Sans Mono")
    # Segunda mitad: LayerNorm 2 → feed-forward → dropout, sumado al atajo
    ax.text(centro, 8.55, "⊕", ha="center", va="center", fontsize=24, color=NARANJA)
    flecha(ax, centro, 8.75, centro, 8.95)
    caja(ax, xc, 7.55, ancho, 0.55, "Dropout", color=GRIS, relleno=GRIS_CLARO)
    flecha(ax, centro, 8.1, centro, 8.38)
    caja(ax, xc, 6.6, ancho, 0.6, "Feed-forward", color=MORADO)
    flecha(ax, centro, 7.2, centro, 7.55)
    caja(ax, xc, 5.65, ancho, 0.6, "LayerNorm 2", color=VERDE)
    flecha(ax, centro, 6.25, centro, 6.6)
    flecha(ax, centro, 4.95, centro, 5.65)
    _atajo(ax, centro, 5.15, xc + ancho + 0.45, 8.55, centro + 0.2)
    ax.text(xc + ancho + 0.6, 6.95, "atajo", ha="left", va="center", fontsize=10, color=NARANJA, style="italic")

    # Primera mitad: LayerNorm 1 → atención → dropout, sumado al atajo
    ax.text(centro, 4.75, "⊕", ha="center", va="center", fontsize=24, color=NARANJA)
    caja(ax, xc, 3.75, ancho, 0.55, "Dropout", color=GRIS, relleno=GRIS_CLARO)
    flecha(ax, centro, 4.3, centro, 4.58)
    caja(ax, xc, 2.8, ancho, 0.6, "Atención multicabeza causal", color=ROJO)
    flecha(ax, centro, 3.4, centro, 3.75)
    caja(ax, xc, 1.85, ancho, 0.6, "LayerNorm 1", color=VERDE)
    flecha(ax, centro, 2.45, centro, 2.8)
    flecha(ax, centro, 0.75, centro, 1.85)
    _atajo(ax, centro, 1.3, xc + ancho + 0.45, 4.75, centro + 0.2)
    ax.text(xc + ancho + 0.6, 3.1, "atajo", ha="left", va="center", fontsize=10, color=NARANJA, style="italic")
    ax.text(centro, 0.5, "Entrada  (b, n, emb_dim)", ha="center", va="center", fontsize=11, family="DejaVu Sans Mono")

    ax.text(0.05, 3.1, "x + Dropout(Atención(LayerNorm₁(x)))", ha="left", va="center", fontsize=9, color=GRIS,
            rotation=90)
    ax.text(0.05, 6.95, "x + Dropout(FF(LayerNorm₂(x)))", ha="left", va="center", fontsize=9, color=GRIS,
            rotation=90)
    ax.set_title("Bloque transformer (pre-norm) con dos atajos")
    return guardar(fig, destino, "bloque_transformer.png")


def mascara_causal(destino: Path) -> Path:
    """La máscara causal: qué posiciones puede mirar cada token (fila) en la atención."""
    tokens = ["Every", "effort", "moves", "you", "forward", "today"]
    n = len(tokens)
    fig, ax = nueva_figura(7.2, 6.4, ejes=True)
    for fila in range(n):
        for col in range(n):
            visible = col <= fila
            ax.add_patch(
                Rectangle((col, n - 1 - fila), 1, 1, facecolor=(AZUL + "55") if visible else (GRIS_CLARO),
                          edgecolor="white", linewidth=2)
            )
            ax.text(col + 0.5, n - 0.5 - fila, "✓" if visible else "−∞", ha="center", va="center",
                    fontsize=13 if visible else 11, color=AZUL if visible else ROJO)
    ax.set_xlim(0, n)
    ax.set_ylim(0, n)
    ax.set_xticks([i + 0.5 for i in range(n)], tokens, rotation=30)
    ax.set_yticks([n - 0.5 - i for i in range(n)], tokens)
    ax.tick_params(length=0)
    ax.xaxis.tick_top()
    ax.set_xlabel("claves: tokens que se miran", labelpad=10)
    ax.xaxis.set_label_position("top")
    ax.set_ylabel("consultas: token que mira")
    for lado in ax.spines.values():
        lado.set_visible(False)
    ax.set_title("Máscara causal: cada token solo ve los anteriores y a sí mismo\n"
                 "(−∞ antes de la softmax → peso 0)", fontsize=12, pad=12, y=-0.16)
    ax.set_aspect("equal")
    return guardar(fig, destino, "mascara_causal.png")


def atencion_multicabeza_formas(destino: Path) -> Path:
    """Las formas de los tensores en cada paso de MultiHeadAttention.forward."""
    fig, ax = nueva_figura(11, 10.2)
    pasos = [
        ("Entrada x", "(b, n, d_in)", GRIS),
        ("W_query, W_key, W_value  (capas lineales)", "(b, n, d_out)  ×3", AZUL),
        ("view: parte d_out en num_heads trozos", "(b, n, num_heads, head_dim)", CELESTE),
        ("transpose(1, 2): las cabezas delante", "(b, num_heads, n, head_dim)", CELESTE),
        ("Puntuaciones: queries @ keysᵀ", "(b, num_heads, n, n)", NARANJA),
        ("Máscara causal (−∞) y softmax(· / √head_dim)", "(b, num_heads, n, n)", ROJO),
        ("Dropout y pesos @ values", "(b, num_heads, n, head_dim)", MORADO),
        ("transpose(1, 2) y view: une las cabezas", "(b, n, d_out)", CELESTE),
        ("out_proj (lineal)", "(b, n, d_out)", VERDE),
    ]
    y, alto, hueco = 8.7, 0.68, 0.32
    for i, (texto, forma, color) in enumerate(pasos):
        caja(ax, 0.3, y, 5.9, alto, texto, color=color, tamano=10.5,
             relleno=GRIS_CLARO if color == GRIS else None)
        _forma(ax, 6.55, y + alto / 2, forma, tamano=11)
        if i < len(pasos) - 1:
            flecha(ax, 3.25, y, 3.25, y - hueco)
        y -= alto + hueco
    ax.text(5.5, 9.95, "head_dim = d_out / num_heads   (GPT-2 124M: 768 / 12 = 64)", ha="center", va="center",
            fontsize=10.5, color=GRIS)
    return guardar(fig, destino, "atencion_multicabeza_formas.png")


def generacion_voraz(destino: Path) -> Path:
    """El bucle de generate_text_simple: recortar, predecir, elegir el más probable y añadirlo."""
    fig, ax = nueva_figura(13, 4.6)
    pasos = [
        ("1. Recorta el contexto", "idx[:, -context_size:]", GRIS),
        ("2. GPTModel", "logits (b, n, 50257)", NARANJA),
        ("3. Último paso", "logits[:, -1, :]\n(b, 50257)", AZUL),
        ("4. Softmax y argmax", "id más probable\n(b, 1)", ROJO),
        ("5. Añade el token", "torch.cat → (b, n + 1)", VERDE),
    ]
    ancho, x = 2.25, 0.15
    centros = []
    for i, (titulo, detalle, color) in enumerate(pasos):
        caja(ax, x, 2.2, ancho, 1.3, f"{titulo}\n\n{detalle}", color=color, tamano=10,
             relleno=GRIS_CLARO if color == GRIS else None)
        centros.append(x + ancho / 2)
        if i < len(pasos) - 1:
            flecha(ax, x + ancho + 0.03, 2.85, x + ancho + 0.32, 2.85)
        x += ancho + 0.35
    _curva(ax, centros[-1], 2.2, centros[0], 2.2, rad=-0.25, color=VERDE)
    ax.text((centros[0] + centros[-1]) / 2, 0.5, "se repite max_new_tokens veces", ha="center", va="center",
            fontsize=11, color=VERDE, style="italic")
    ax.text(6.5, 4.2, "«Hello, I am»  →  «Hello, I am Feature»  →  «Hello, I am Featureiman»  →  …",
            ha="center", va="center", fontsize=11, color=TINTA)
    return guardar(fig, destino, "generacion_voraz.png")


FIGURAS = [
    arquitectura_gpt,
    flujo_datos,
    bloque_transformer,
    mascara_causal,
    atencion_multicabeza_formas,
    generacion_voraz,
]
