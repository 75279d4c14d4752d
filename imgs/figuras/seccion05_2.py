"""Figuras de seccion05/2_entrenando_llm.ipynb: el bucle de entrenamiento paso a paso."""

from __future__ import annotations

from pathlib import Path

from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from figuras.estilo import AZUL, GRIS, MORADO, NARANJA, ROJO, TINTA, VERDE, caja, flecha, guardar, nueva_figura


def _marco(ax, x, y, ancho, alto, titulo, color, discontinuo=False):
    """Rectángulo redondeado sin relleno con un título arriba a la izquierda (un bucle)."""
    ax.add_patch(
        FancyBboxPatch(
            (x, y), ancho, alto, boxstyle="round,pad=0.02,rounding_size=0.2", linewidth=1.8,
            edgecolor=color, facecolor="none", linestyle="--" if discontinuo else "-",
        )
    )
    ax.text(x + 0.15, y + alto - 0.12, titulo, ha="left", va="top", fontsize=11.5, fontweight="bold", color=color)


def bucle_entrenamiento(destino: Path) -> Path:
    """Un paso de entrenamiento por lote, una evaluación cada eval_freq pasos y una muestra por época."""
    fig, ax = nueva_figura(15.9, 6.4)

    _marco(ax, 0.15, 0.15, 15.6, 6.05, "Para cada época (num_epochs veces)", AZUL)
    _marco(ax, 0.45, 0.45, 11.9, 5.2, "Para cada lote (entradas, objetivos) de train_loader", VERDE)

    # Los cuatro pasos de cada lote
    pasos = [
        ("1. optimizer.zero_grad()", "borra los gradientes\ndel paso anterior"),
        ("2. calc_loss_batch()", "pasada hacia delante:\npérdida del lote"),
        ("3. loss.backward()", "retropropagación:\nun gradiente por peso"),
        ("4. optimizer.step()", "AdamW mueve cada peso\ncontra su gradiente"),
    ]
    ancho, alto, y, hueco, x0 = 2.45, 1.45, 3.55, 0.3, 1.35
    xs = [x0 + i * (ancho + hueco) for i in range(4)]
    derecha = xs[-1] + ancho
    for x, (codigo, explicacion) in zip(xs, pasos, strict=True):
        caja(ax, x, y, ancho, alto, "", color=VERDE)
        ax.text(x + ancho / 2, y + alto - 0.3, codigo, ha="center", va="center", fontsize=9, fontweight="bold",
                family="DejaVu Sans Mono", color=TINTA)
        ax.text(x + ancho / 2, y + 0.52, explicacion, ha="center", va="center", fontsize=10, color=TINTA)
    for x in xs[:-1]:
        flecha(ax, x + ancho, y + alto / 2, x + ancho + hueco, y + alto / 2, color=GRIS)

    # Contadores
    caja(ax, x0, 2.3, derecha - x0, 0.75,
         "5. tokens_seen += batch_size × contexto          global_step += 1", color=GRIS, tamano=10.5)
    flecha(ax, xs[-1] + ancho / 2, y, xs[-1] + ancho / 2, 3.05, color=GRIS)

    # Evaluación periódica
    caja(ax, x0, 0.7, derecha - x0, 1.1,
         "6. Si global_step % eval_freq == 0:  evaluate_model(...)\n"
         "pérdida media de eval_iter lotes de entrenamiento y de validación: se guarda y se imprime",
         color=NARANJA, tamano=10.5)
    flecha(ax, xs[-1] + ancho / 2, 2.3, xs[-1] + ancho / 2, 1.8, color=NARANJA)

    # Vuelta al siguiente lote
    ax.add_patch(
        FancyArrowPatch((x0, 1.25), (x0, y + alto / 2), connectionstyle="arc3,rad=-0.3", arrowstyle="-|>",
                        mutation_scale=16, linewidth=1.6, color=VERDE)
    )
    ax.text(0.62, 2.7, "siguiente lote", ha="center", va="center", fontsize=9.5, color=VERDE, rotation=90)

    # Final de cada época
    caja(ax, 12.7, 2.4, 2.75, 1.9,
         "Al acabar la época:\ngenerate_and_print_sample\n\nimprime 50 tokens que\ncontinúan el contexto inicial",
         color=MORADO, tamano=10)
    flecha(ax, 12.35, 3.35, 12.7, 3.35, color=MORADO)
    ax.text(14.07, 1.55, "y vuelta a empezar\ncon la época siguiente", ha="center", va="center", fontsize=10,
            color=AZUL, style="italic")
    ax.text(14.07, 0.75, "train_loader baraja las\nventanas en cada recorrido", ha="center", va="center", fontsize=9.5,
            color=ROJO)

    return guardar(fig, destino, "bucle_entrenamiento.png")


FIGURAS = [bucle_entrenamiento]
