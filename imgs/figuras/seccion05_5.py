"""Figuras de seccion05/5_cargar_pesos_gpt2.ipynb (de los nombres de GPT-2 a los de GPTModel)."""

from __future__ import annotations

from pathlib import Path

from figuras.estilo import AZUL, GRIS, MORADO, NARANJA, ROJO, VERDE, caja, flecha, guardar, nueva_figura

# (nombre en el archivo de GPT-2, forma, nombre en GPTModel, operación, color)
MAPEO = [
    ("wte.weight", "(50257, 768)", "tok_emb.weight  y  out_head.weight", "copiar (pesos atados)", AZUL),
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
    """Los cuatro tamaños de GPT-2: misma arquitectura, más capas, cabezas y dimensiones."""
    fig, ax = nueva_figura(12, 3.4)
    modelos = [
        ("124M", "12 capas · 12 cabezas\nemb_dim 768\n≈ 0,5 GB", AZUL, 1.0),
        ("355M", "24 capas · 16 cabezas\nemb_dim 1024\n≈ 1,5 GB", VERDE, 1.15),
        ("774M", "36 capas · 20 cabezas\nemb_dim 1280\n≈ 3,2 GB", NARANJA, 1.3),
        ("1558M", "48 capas · 25 cabezas\nemb_dim 1600\n≈ 6,4 GB", MORADO, 1.45),
    ]
    x = 0.2
    for nombre, texto, color, escala in modelos:
        ancho, alto = 2.45 + (escala - 1.0), 1.6 * escala
        caja(ax, x, 0.4, ancho, alto, texto, color=color, tamano=9.5)
        ax.text(x + ancho / 2, 0.55 + alto, f"gpt2 {nombre}", ha="center", fontsize=11, fontweight="bold",
                color=color)
        x += ancho + 0.35
    ax.text(6, 3.15, "Todos: vocabulario 50 257, contexto 1024, qkv_bias=True", ha="center", fontsize=10, color=GRIS,
            style="italic")
    return guardar(fig, destino, "tamanos_gpt2.png")


FIGURAS = [mapa_pesos_gpt2, tamanos_gpt2]
