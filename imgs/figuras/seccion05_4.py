"""Figuras de seccion05/4_guardar_y_cargar_pesos.ipynb (puntos de control y guardado atómico)."""

from __future__ import annotations

from pathlib import Path

from figuras.estilo import AZUL, GRIS, MORADO, NARANJA, ROJO, VERDE, caja, flecha, guardar, nueva_figura


def contenido_checkpoint(destino: Path) -> Path:
    """Qué guarda un punto de control y qué hace falta para cada uso."""
    fig, ax = nueva_figura(12, 4.6)
    caja(ax, 0.3, 0.35, 6.9, 3.75, "", color=GRIS, relleno="#FFFFFF")
    ax.text(3.75, 3.72, "Punto de control: un diccionario guardado con torch.save", ha="center", fontsize=10.5,
            fontweight="bold")
    piezas = [
        ("model_state_dict", "los pesos: un tensor por capa", AZUL),
        ("optimizer_state_dict", "AdamW: medias m, v y nº de paso", NARANJA),
        ("config", "tamaños: vocab, contexto, capas…", MORADO),
        ("rng_state (opcional)", "estado del generador aleatorio", VERDE),
    ]
    for i, (clave, explicacion, color) in enumerate(piezas):
        y = 2.75 - i * 0.72
        caja(ax, 0.6, y, 2.6, 0.55, clave, color=color, tamano=10, negrita=True)
        ax.text(3.4, y + 0.275, explicacion, va="center", fontsize=10)

    caja(ax, 7.9, 2.55, 3.9, 1.2, "Generar texto\nmodel_state_dict (+ config)\n→ model.eval()", color=AZUL, tamano=10)
    caja(ax, 7.9, 0.6, 3.9, 1.5, "Seguir entrenando\nmodel + optimizer (+ config)\n+ rng_state para repetir\n"
         "exactamente el mismo camino", color=NARANJA, tamano=10)
    flecha(ax, 7.25, 3.1, 7.85, 3.1)
    flecha(ax, 7.25, 1.35, 7.85, 1.35)
    return guardar(fig, destino, "contenido_checkpoint.png")


def guardado_atomico(destino: Path) -> Path:
    """Escribir en un temporal, forzarlo a disco y renombrar: el archivo bueno nunca queda a medias."""
    fig, ax = nueva_figura(12, 4.4)
    pasos = [
        ("1. torch.save en un\ntemporal oculto\n.ckpt.pth.x1y2.tmp", AZUL),
        ("2. flush + fsync:\nlos bytes llegan\nal disco", MORADO),
        ("3. os.replace:\nel temporal pasa\na llamarse ckpt.pth", VERDE),
    ]
    ancho, alto, hueco, y = 3.0, 1.35, 0.9, 2.4
    x0 = (12 - (3 * ancho + 2 * hueco)) / 2
    xs = [x0 + i * (ancho + hueco) for i in range(3)]
    for x, (texto, color) in zip(xs, pasos, strict=True):
        caja(ax, x, y, ancho, alto, texto, color=color, tamano=10.5)
    for i in range(2):
        flecha(ax, xs[i] + ancho + 0.03, y + alto / 2, xs[i + 1] - 0.03, y + alto / 2)
    ax.text(xs[2] + ancho / 2, y + alto + 0.25, "atómico: se ve el archivo viejo\no el nuevo, nunca uno a medias",
            ha="center", fontsize=9.5, color=VERDE)

    caja(ax, x0, 0.35, xs[1] + ancho - x0, 1.2, "Si falla aquí (error, Ctrl+C, disco lleno): se borra el temporal\n"
         "y ckpt.pth sigue siendo el último punto de control bueno", color=ROJO, tamano=10.5)
    flecha(ax, xs[0] + ancho / 2, y - 0.03, xs[0] + ancho / 2, 1.6, color=ROJO)
    flecha(ax, xs[1] + ancho / 2, y - 0.03, xs[1] + ancho / 2, 1.6, color=ROJO)
    ax.text(xs[2] + ancho / 2, 0.95, "torch.save(obj, \"ckpt.pth\") a secas\nescribe encima: si falla,\n"
            "pierdes el archivo bueno", ha="center", fontsize=9.5, color=GRIS, style="italic")
    return guardar(fig, destino, "guardado_atomico.png")


FIGURAS = [contenido_checkpoint, guardado_atomico]
