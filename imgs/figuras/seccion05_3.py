"""Figuras de seccion05/3_estrategias_decodificacion.ipynb (temperatura, top-k y la función generate)."""

from __future__ import annotations

from pathlib import Path

from figuras.estilo import AZUL, GRIS, MORADO, NARANJA, ROJO, VERDE, caja, flecha, guardar, nueva_figura


def flujo_decodificacion(destino: Path) -> Path:
    """Un paso de generate: logits → top-k → ÷ temperatura → softmax → muestreo (o argmax si T = 0)."""
    fig, ax = nueva_figura(13, 5.0)
    pasos = [
        ("logits del\núltimo token\n(b, vocab_size)", AZUL),
        ("top-k\nfuera de los k\nmayores: −inf", NARANJA),
        ("÷ temperatura\nT > 1 aplana\nT < 1 afila", MORADO),
        ("softmax\nprobabilidades\n(suman 1)", AZUL),
        ("muestreo\ntorch.multinomial", VERDE),
        ("token\nsiguiente\n(b, 1)", VERDE),
    ]
    ancho, alto, hueco, y = 1.75, 1.45, 0.35, 2.55
    x0 = (13 - (len(pasos) * ancho + (len(pasos) - 1) * hueco)) / 2
    xs = [x0 + i * (ancho + hueco) for i in range(len(pasos))]
    for x, (texto, color) in zip(xs, pasos, strict=True):
        caja(ax, x, y, ancho, alto, texto, color=color, tamano=10)
    for i in range(len(pasos) - 1):
        flecha(ax, xs[i] + ancho + 0.02, y + alto / 2, xs[i + 1] - 0.02, y + alto / 2)
    ax.text(xs[1] + ancho / 2, y + alto + 0.2, "opcional (top_k=None: no filtra)", ha="center", fontsize=9,
            color=NARANJA)

    # Rama voraz: con temperature = 0 no se muestrea, se toma el máximo
    x_voraz, ancho_voraz = xs[2], ancho * 2 + hueco
    caja(ax, x_voraz, 0.45, ancho_voraz, 1.05, "temperature = 0: argmax\n(decodificación voraz)", color=ROJO,
         tamano=10)
    flecha(ax, xs[1] + ancho / 2, y - 0.02, x_voraz - 0.02, 0.98, color=ROJO)
    flecha(ax, x_voraz + ancho_voraz + 0.02, 0.98, xs[5] + ancho / 2, y - 0.02, color=ROJO)
    ax.text(xs[5] + ancho / 2, 0.75, "eos_id: si es el\ntoken de fin, se para", ha="center", fontsize=9.5,
            color=GRIS, style="italic")
    ax.text(6.5, 4.75, "Un paso de generate(): se repite max_new_tokens veces", ha="center", fontsize=12,
            fontweight="bold")
    return guardar(fig, destino, "flujo_decodificacion.png")


FIGURAS = [flujo_decodificacion]
