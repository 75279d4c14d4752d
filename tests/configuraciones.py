"""Configuraciones diminutas del GPT para las pruebas: las mismas claves que GPT_CONFIG_124M, en miniatura.

Cada prueba que necesita otra cosa (un vocabulario pequeño, sin dropout) parte de aquí: {**CFG_DIMINUTA, ...}.
"""

CFG_DIMINUTA = {
    "vocab_size": 50257,  # el vocabulario de GPT-2, para poder usar el tokenizador de verdad
    "context_length": 16,  # longitud de contexto
    "emb_dim": 32,  # dimensión de los embeddings
    "n_heads": 2,  # cabezas de atención (head_dim = 16)
    "n_layers": 2,  # bloques transformer
    "drop_rate": 0.1,  # tasa de dropout
    "qkv_bias": False,  # sin sesgo en consulta, clave y valor
}
