"""Figuras de seccion05/5_cargar_pesos_gpt2.ipynb (de los nombres de GPT-2 a los de GPTModel)."""

from __future__ import annotations

from pathlib import Path

from figuras.estilo import AZUL, GRIS, MORADO, NARANJA, ROJO, TINTA, VERDE, caja, flecha, guardar, nueva_figura

# (nombre en el archivo de GPT-2, forma, nombre en GPTModel, operación, color)
MAPEO = [
    ("wte.weight", "(50257, 768)", "tok_emb.weight  y  out_head.weight", "copiar (pesos compartidos)", AZUL),
    ("wpe.weight", "(1024, 768)", "pos_emb.weight", "copiar", AZUL),
    ("h.N.ln_1 / ln_2 .weight, .bias", "(768,)", "trf_blocks[N].norm1 / norm2 .scale, .shift", "copiar", VERDE),
    ("h.N.attn.c_attn.weight", "(768, 2304)", "att.W_query / W_key / W_value .weight", "partir en 3 y trasponer", ROJO),
    ("h.N.attn.c_attn.bias", "(2304,)", "att.W_query / W_key / W_value .bias", "partir en 3", ROJO),
    ("h.N.attn.c_proj.weight", "(768, 768)", "att.out_proj.weight", "trasponer", NARANJA),
    ("h.N.mlp.c_fc.weight", "(768, 3072)", "ff.layers[0].weight  (3072, 768)", "trasponer", NARANJA),
    ("h.N.mlp.c_proj.weight", "(3072, 768)", "ff.layers[2].weight  (768, 3072)", "trasponer", NARANJA),
    ("ln_f.weight, ln_f.bias", "(768,)", "final_norm.scale, final_norm.shift", "copiar", VERDE),
]


def mapa_pesos_gpt2(destino: Path) -> Path:
    """Cada tensor del archivo de GPT-2 (124M) y dónde va en GPTModel."""
    fig, ax = nueva_figura(13, 7.2)
    ax.text(2.55, 6.85, "model.safetensors (GPT-2)", ha="center", fontsize=12, fontweight="bold")
    ax.text(10.2, 6.85, "GPTModel", ha="center", fontsize=12, fontweight="bold")
    for i, (origen, forma, destino_nombre, operacion, color) in enumerate(MAPEO):
        y = 6.05 - i * 0.7
        caja(ax, 0.1, y, 4.9, 0.52, f"{origen}  {forma}", color=color, tamano=9.5)
        caja(ax, 7.45, y, 5.45, 0.52, destino_nombre, color=color, tamano=9.5)
        flecha(ax, 5.05, y + 0.26, 7.4, y + 0.26, color=color)
        ax.text(6.22, y + 0.33, operacion, ha="center", va="bottom", fontsize=8.5, color=color)
    ax.text(6.5, -0.05, "Conv1D de GPT-2 guarda (entrada, salida); nn.Linear, (salida, entrada): por eso se traspone.\n"
            "N = 0…11 en el 124M; los búferes h.N.attn.bias (máscara causal) no son pesos y no se cargan.",
            ha="center", fontsize=9.5, color=GRIS, style="italic")
    ax.set_ylim(-0.5, 7.2)
    return guardar(fig, destino, "mapa_pesos_gpt2.png")


def tamanos_gpt2(destino: Path) -> Path:
    """Los cuatro tamaños de GPT-2: misma arquitectura, más capas, cabezas y dimensiones.

    La longitud de cada barra es proporcional al número de parámetros.
    """
    fig, ax = nueva_figura(11, 4.2, ejes=True)
    modelos = [
        ("gpt2 124M", 124, "12 capas · 12 cabezas · emb_dim 768 · ≈ 0.5 GB", AZUL),
        ("gpt2 355M", 355, "24 capas · 16 cabezas · emb_dim 1024 · ≈ 1.5 GB", VERDE),
        ("gpt2 774M", 774, "36 capas · 20 cabezas · emb_dim 1280 · ≈ 3.2 GB", NARANJA),
        ("gpt2 1558M", 1558, "48 capas · 25 cabezas · emb_dim 1600 · ≈ 6.4 GB", MORADO),
    ]
    posiciones = list(range(len(modelos)))
    ax.barh(posiciones, [m[1] for m in modelos], color=[m[3] for m in modelos], height=0.62)
    ax.set_yticks(posiciones, [m[0] for m in modelos], fontsize=11)
    for etiqueta, (_, _, _, color) in zip(ax.get_yticklabels(), modelos, strict=True):
        etiqueta.set_color(color)
        etiqueta.set_fontweight("bold")
    ax.invert_yaxis()
    for i, (_, millones, texto, _) in enumerate(modelos):
        cifra = f"{millones} millones"
        if millones >= 1000:
            cifra = f"{millones // 1000} {millones % 1000:03d} millones"
        ax.text(millones + 20, i - 0.12, cifra, va="center", fontsize=10.5, fontweight="bold", color=TINTA)
        ax.text(millones + 20, i + 0.18, texto, va="center", fontsize=9.5, color=GRIS)
    ax.set_xlim(0, 2800)
    ax.set_xticks([0, 500, 1000, 1500])
    ax.set_xticklabels(["0", "500", "1 000", "1 500"])
    ax.set_xlabel("parámetros (millones)")
    ax.spines[["top", "right"]].set_visible(False)
    ax.set_title("Los cuatro tamaños de GPT-2 (barras proporcionales a los parámetros)", loc="left")
    ax.text(0.0, -0.2, "Todos: vocabulario 50 257, contexto 1024, qkv_bias=True", transform=ax.transAxes,
            fontsize=10, color=GRIS, style="italic", va="top")
    return guardar(fig, destino, "tamanos_gpt2.png")


FIGURAS = [mapa_pesos_gpt2, tamanos_gpt2]
