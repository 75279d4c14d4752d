"""Configuración del GPT-2 más pequeño (124 millones de parámetros).

Se explica en: seccion04_ImplementacionGPTGeneracionTexto/1_implementacion_gpt.ipynb
"""

GPT_CONFIG_124M = {
    "vocab_size": 50257,  # tamaño del vocabulario (tokenizador BPE de GPT-2)
    "context_length": 1024,  # longitud de contexto: cuántos tokens puede ver el modelo a la vez
    "emb_dim": 768,  # dimensión de los embeddings
    "n_heads": 12,  # número de cabezas de atención
    "n_layers": 12,  # número de bloques transformer
    "drop_rate": 0.1,  # tasa de dropout
    "qkv_bias": False,  # sesgo (bias) en las capas lineales de consulta, clave y valor
}
