"""Tokenizadores sencillos basados en una expresión regular (los primeros pasos antes de BPE).

`SimpleTokenizerV1` solo conoce las palabras de su vocabulario; `SimpleTokenizerV2` cambia las
desconocidas por `<|unk|>` y admite `<|endoftext|>` para separar textos. El curso usa después el
tokenizador BPE de GPT-2 (`tokenizerGPT2.get_tokenizer()`); estos sirven para entender la idea.

Se explica en: seccion02_TrabajarDatosTexto/1_trabajar_datos_texto.ipynb
"""

from __future__ import annotations

import re

# Separa signos de puntuación, comillas, paréntesis, el guion doble «--» y los espacios.
# Los paréntesis del patrón forman un grupo: así re.split conserva los separadores como tokens.
TOKEN_PATTERN = r'([,.:;?_!"()\']|--|\s)'

# Quita el espacio que decode pone delante de la puntuación: "tea ?" -> "tea?".
DECODE_PATTERN = r'\s+([,.:;?!"()\'])'


def simple_tokenize(text: str) -> list[str]:
    """Trocea `text` en tokens (palabras y signos de puntuación) con TOKEN_PATTERN, sin los espacios."""
    preprocessed = re.split(TOKEN_PATTERN, text)
    return [item.strip() for item in preprocessed if item.strip()]


def build_vocab(tokens: list[str], special_tokens: list[str] | None = None) -> dict[str, int]:
    """Vocabulario {token: id}: los tokens distintos en orden alfabético y, al final, `special_tokens`."""
    all_tokens = sorted(set(tokens))  # cada token distinto una vez, en orden alfabético
    all_tokens.extend(special_tokens or [])  # los tokens especiales van al final
    return {token: integer for integer, token in enumerate(all_tokens)}


class SimpleTokenizerV1:
    """Convierte texto en ids y al revés con un vocabulario fijo {token: id}.

    `encode(text) -> list[int]` lanza KeyError si el texto tiene un token que no está en el vocabulario.
    """

    def __init__(self, vocab: dict[str, int]):
        self.str_to_int = vocab
        self.int_to_str = {i: s for s, i in vocab.items()}

    def encode(self, text):
        preprocessed = simple_tokenize(text)
        unknown = [s for s in preprocessed if s not in self.str_to_int]
        if unknown:
            raise KeyError(
                f"Estos tokens no están en el vocabulario: {unknown}. "
                "SimpleTokenizerV1 solo conoce las palabras del texto con el que se creó su vocabulario; "
                "usa SimpleTokenizerV2, que las cambia por <|unk|>."
            )
        ids = [self.str_to_int[s] for s in preprocessed]
        return ids

    def decode(self, ids):
        text = " ".join([self.int_to_str[i] for i in ids])
        # Quita el espacio delante de la puntuación
        text = re.sub(DECODE_PATTERN, r"\1", text)
        return text


class SimpleTokenizerV2:
    """Como SimpleTokenizerV1, pero cambia cada token desconocido por `<|unk|>`.

    El vocabulario debe incluir `<|unk|>` (y `<|endoftext|>` si separas textos con él).
    """

    def __init__(self, vocab: dict[str, int]):
        if "<|unk|>" not in vocab:
            raise ValueError(
                "El vocabulario no tiene el token <|unk|>, que SimpleTokenizerV2 necesita para las palabras "
                "desconocidas. Créalo con build_vocab(tokens, special_tokens=['<|endoftext|>', '<|unk|>'])."
            )
        self.str_to_int = vocab
        self.int_to_str = {i: s for s, i in vocab.items()}

    def encode(self, text):
        preprocessed = simple_tokenize(text)
        # Cambia cada token desconocido por <|unk|>
        preprocessed = [item if item in self.str_to_int else "<|unk|>" for item in preprocessed]
        ids = [self.str_to_int[s] for s in preprocessed]
        return ids

    def decode(self, ids):
        text = " ".join([self.int_to_str[i] for i in ids])
        # Quita el espacio delante de la puntuación
        text = re.sub(DECODE_PATTERN, r"\1", text)
        return text
