"""Figuras del cuaderno seccion05/6_rendimiento.ipynb (caché KV y benchmarks).

Las gráficas de barras leen las cifras que guardan los benchmarks en benchmarks/resultados/*.json
(la última línea de `python benchmarks/entrenamiento.py` y `python benchmarks/generacion.py`).
"""

from __future__ import annotations

import json
from pathlib import Path

from matplotlib.patches import Rectangle

from figuras.estilo import (
    AZUL,
    CELESTE,
    GRIS,
    GRIS_CLARO,
    NARANJA,
    TINTA,
    VERDE,
    guardar,
    nueva_figura,
)

RESULTADOS = Path(__file__).resolve().parents[2] / "benchmarks" / "resultados"
TOKENS = ["Every", "␣effort", "␣moves", "␣you", "␣renting"]


def _matriz(ax, x, y_arriba, colores, columnas=4, lado=0.32):
    """Dibuja una matriz fila a fila desde arriba; `colores` tiene un color por fila (None = celda vacía)."""
    for i, color in enumerate(colores):
        for j in range(columnas):
            if color is None:
                continue
            ax.add_patch(Rectangle((x + j * lado, y_arriba - (i + 1) * lado), lado, lado, facecolor=color,
                                   edgecolor="white", linewidth=1.2))
    return x + columnas * lado


def _titulo_matriz(ax, x, y, texto, forma):
    ax.text(x, y + 0.12, texto, ha="center", va="bottom", fontsize=12, fontweight="bold")
    ax.text(x, y - 0.05, forma, ha="center", va="top", fontsize=8.5, color=GRIS)


def cache_kv(destino: Path) -> Path:
    """Paso 5 de la generación sin caché (todo se recalcula) y con caché KV (solo el token nuevo)."""
    fig, ax = nueva_figura(12.5, 6.0)
    lado, arriba = 0.32, 4.3
    n = len(TOKENS)

    # --- Sin caché -------------------------------------------------------------------------------------------------
    ax.text(3.0, 5.75, "Sin caché: en cada paso se recalcula todo", ha="center", fontsize=13, fontweight="bold",
            color=NARANJA)
    for i, token in enumerate(TOKENS):
        ax.text(0.95, arriba - (i + 0.5) * lado, token, ha="right", va="center", fontsize=10,
                color=VERDE if i == n - 1 else TINTA, fontweight="bold" if i == n - 1 else "normal")
    for x, nombre in ((1.1, "Q"), (2.6, "K"), (4.1, "V")):
        _matriz(ax, x, arriba, [NARANJA] * n, lado=lado)
        _titulo_matriz(ax, x + 2 * lado, arriba + 0.35, nombre, "(5, head_dim)")
    # Puntuaciones 5×5 causales: solo se usa la última fila
    x_p = 1.1
    y_p = 2.45
    for i in range(n):
        for j in range(n):
            if j > i:
                continue
            color = NARANJA if i == n - 1 else NARANJA + "55"
            ax.add_patch(Rectangle((x_p + j * lado, y_p - (i + 1) * lado), lado, lado, facecolor=color,
                                   edgecolor="white", linewidth=1.2))
    ax.text(x_p + n * lado + 0.25, y_p - 0.8, "puntuaciones QKᵀ (5 × 5):\nse calculan todas,\npero solo se usa la última fila",
            ha="left", va="center", fontsize=9.5, color=TINTA)

    # Separador
    ax.plot([6.25, 6.25], [0.7, 5.7], color=GRIS_CLARO, linewidth=2)

    # --- Con caché -------------------------------------------------------------------------------------------------
    ax.text(9.45, 5.75, "Con caché KV: solo el token nuevo", ha="center", fontsize=13, fontweight="bold", color=VERDE)
    for i, token in enumerate(TOKENS):
        ax.text(7.55, arriba - (i + 0.5) * lado, token, ha="right", va="center", fontsize=10,
                color=VERDE if i == n - 1 else TINTA, fontweight="bold" if i == n - 1 else "normal")
    _matriz(ax, 7.7, arriba, [None] * (n - 1) + [VERDE], lado=lado)
    _titulo_matriz(ax, 7.7 + 2 * lado, arriba + 0.35, "q", "(1, head_dim)")
    for x, nombre in ((9.2, "K"), (10.7, "V")):
        _matriz(ax, x, arriba, [CELESTE] * (n - 1) + [VERDE], lado=lado)
        _titulo_matriz(ax, x + 2 * lado, arriba + 0.35, nombre, "(5, head_dim)")
    ax.annotate("", xy=(11.95, arriba - 0.1), xytext=(11.95, arriba - (n - 1) * lado + 0.05),
                arrowprops={"arrowstyle": "<->", "color": AZUL, "linewidth": 1.4})
    ax.text(12.05, arriba - 2 * lado, "de la\ncaché", ha="left", va="center", fontsize=9.5, color=AZUL)
    ax.text(12.05, arriba - (n - 0.5) * lado, "se añade", ha="left", va="center", fontsize=9.5, color=VERDE)
    for j in range(n):
        ax.add_patch(Rectangle((7.7 + j * lado, y_p - n * lado), lado, lado, facecolor=VERDE, edgecolor="white",
                               linewidth=1.2))
    ax.text(7.7 + n * lado + 0.2, y_p - n * lado + lado / 2,
            "puntuaciones qKᵀ (1 × 5):\nuna fila, la que hace falta", ha="left", va="center", fontsize=9.5)

    # Leyenda
    for x, color, texto in ((0.6, NARANJA, "se recalcula en cada paso"), (4.5, CELESTE, "se lee de la caché"),
                            (8.1, VERDE, "se calcula una sola vez (token nuevo)")):
        ax.add_patch(Rectangle((x, 0.1), 0.3, 0.3, facecolor=color, edgecolor="white"))
        ax.text(x + 0.42, 0.25, texto, ha="left", va="center", fontsize=10.5)
    return guardar(fig, destino, "cache_kv.png")


def _leer(nombre: str) -> dict:
    with open(RESULTADOS / f"{nombre}.json", encoding="utf-8") as f:
        return json.load(f)


def _nombre_modelo(config: dict) -> str:
    return "el GPT de 124M" if (config["emb_dim"], config["n_layers"]) == (768, 12) else "un GPT diminuto (--quick)"


def _pie(ax, cifras: dict, texto: str) -> None:
    entorno = cifras["entorno"]
    ax.text(0.0, -0.16, f"{texto}\n{entorno['cpu']}, {entorno['nucleos']} núcleos, torch {entorno['torch']}, "
            f"llms-from-scratch {entorno['llms_from_scratch']}, {entorno['hilos_torch']} hilo(s) · "
            f"{cifras['config']['repeticiones']} vueltas alternadas", transform=ax.transAxes, fontsize=8.5, color=GRIS, va="top")


def _barras(ax, etiquetas, valores, colores, cocientes, unidad, tope=None):
    posiciones = range(len(valores))
    ax.barh(list(posiciones), valores, color=colores, height=0.62)
    ax.set_yticks(list(posiciones), etiquetas, fontsize=10)
    ax.invert_yaxis()
    ax.set_xlabel(unidad)
    tope = max(max(valores), tope or 0)
    for i, (v, c) in enumerate(zip(valores, cocientes, strict=True)):
        numero = f"{v:.1f}" if v < 10 else f"{v:.0f}"
        ax.text(v + tope * 0.01, i, f"{numero}  ({c:.1f}×)", va="center", fontsize=10)
    ax.set_xlim(0, tope * 1.22)


def rendimiento_entrenamiento(destino: Path) -> Path:
    """Tokens/s al entrenar el GPT de 124M: referencia, curso y cada pieza del camino rápido añadida."""
    cifras = _leer("entrenamiento")
    nombres = {
        "referencia_fp32": "referencia (libro), fp32",
        "referencia_bf16": "referencia + autocast bf16",
        "curso_fp32": "curso: GPTModel, fp32",
        "rapido_piezas": "+ SDPA, LayerNorm y GELU nativas",
        "rapido_adamw": "+ AdamW fusionado",
        "rapido_auto": "+ autocast bf16",
        "rapido_dropout": "+ dropout rápido",
        "rapido_memoria": "+ reuse_freed_memory()",
        "rapido_compile": "+ torch.compile",
        "referencia_fp32_memoria": "control: referencia fp32\n+ reuse_freed_memory()",
        "referencia_bf16_memoria": "control: referencia bf16\n+ reuse_freed_memory()",
    }
    variantes = [v for v in nombres if v in cifras["variantes"]]
    valores = [cifras["variantes"][v]["tokens_s"] for v in variantes]
    colores = [GRIS if v.startswith("referencia") else (AZUL if v == "curso_fp32" else VERDE) for v in variantes]
    fig, ax = nueva_figura(10, 0.55 * len(variantes) + 1.6, ejes=True)
    cocientes = [cifras["variantes"][v]["vs_referencia_fp32"] for v in variantes]
    _barras(ax, [nombres[v] for v in variantes], valores, colores, cocientes,
            "tokens por segundo al entrenar (más es mejor)")
    c = cifras["config"]
    ax.set_title(f"Entrenar {_nombre_modelo(c)} (lote {c['batch_size']}, contexto {c['context_length']})", loc="left")
    pico = cifras["pico_gflops"]
    _pie(ax, cifras, "× = mediana de los cocientes frente a la referencia fp32 en cada vuelta\npico medido en la "
         f"misma ejecución: {pico['fp32']:.0f} GFLOP/s en fp32 y {pico['bf16']:.0f} en bf16")
    return guardar(fig, destino, "rendimiento_entrenamiento.png")


def rendimiento_generacion(destino: Path) -> Path:
    """Tokens/s al generar con el GPT de 124M, con y sin caché KV."""
    cifras = _leer("generacion")
    nombres = {
        "curso_sin_cache": "curso: generate_text_simple",
        "referencia_sin_cache": "referencia: generate_text_simple",
        "rapido_sin_cache": "rápido sin caché (solo SDPA)",
        "referencia_cache": "referencia con caché KV",
        "rapido_cache_sin_reparto": "rápido con caché KV, sin reparto",
        "rapido_cache": "rápido con caché KV (fp32)",
        "rapido_cache_bf16": "rápido con caché KV, pesos bf16",
    }
    variantes = [v for v in nombres if "tokens_s" in cifras["variantes"].get(v, {})]
    valores = [cifras["variantes"][v]["tokens_s"] for v in variantes]
    colores = [GRIS if v.startswith("referencia") else (AZUL if v == "curso_sin_cache" else VERDE) for v in variantes]
    fig, ax = nueva_figura(10, 0.55 * len(variantes) + 1.6, ejes=True)
    limites = cifras["limite_tokens_s"]
    cocientes = [cifras["variantes"][v]["vs_curso_sin_cache"] for v in variantes]
    etiquetas = [nombres[v] + ("" if cifras["variantes"][v]["tokens_iguales"] else "\n(otros tokens)") for v in variantes]
    _barras(ax, etiquetas, valores, colores, cocientes,
            "tokens nuevos por segundo (más es mejor)", tope=max(limites.values()))
    # Cada barra con caché se compara con el límite de su tipo de pesos: en bf16 se leen la mitad de bytes,
    # así que su límite es el doble que en fp32.
    for tipo, estilo in (("fp32", "--"), ("bf16", ":")):
        limite = limites[tipo]
        ax.axvline(limite, color=NARANJA, linestyle=estilo, linewidth=1.4)
        ax.text(limite - max(limites.values()) * 0.012, 0.5,
                f"límite por ancho de\nbanda, pesos {tipo}:\n{limite:.0f} tokens/s", color=NARANJA, fontsize=9,
                ha="right", va="center")
    for i, v in enumerate(variantes):
        fraccion = cifras["variantes"][v].get("fraccion_limite_memoria")
        if fraccion is not None:
            tipo = "bf16" if v.endswith("bf16") else "fp32"
            ax.text(valores[i] + max(limites.values()) * 0.01, i + 0.3, f"{fraccion * 100:.0f} % del límite {tipo}",
                    va="center", fontsize=8.5, color=NARANJA, zorder=3,
                    bbox={"facecolor": "white", "edgecolor": "none", "pad": 1.0})
    c = cifras["config"]
    ax.set_title(f"Generar {c['tokens_nuevos']} tokens tras «{c['texto']}» con {_nombre_modelo(c)}", loc="left")
    _pie(ax, cifras, "× = mediana de los cocientes frente a generate_text_simple en cada vuelta\nancho de banda "
         f"medido en la misma ejecución: {cifras['ancho_de_banda_gb_s']:.1f} GB/s")
    return guardar(fig, destino, "rendimiento_generacion.png")


FIGURAS = [cache_kv, rendimiento_entrenamiento, rendimiento_generacion]
