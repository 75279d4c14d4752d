"""Pruebas de los tokenizadores sencillos (seccion02_TrabajarDatosTexto/simpleTokenizer.py).

Los ids esperados son los que imprime el libro con el vocabulario de «The Verdict».
"""

import pytest

from seccion02_TrabajarDatosTexto.simpleTokenizer import (
    SimpleTokenizerV1,
    SimpleTokenizerV2,
    build_vocab,
    simple_tokenize,
)
from seccion02_TrabajarDatosTexto.theVerdict import load_the_verdict

SPECIALS = ["<|endoftext|>", "<|unk|>"]


@pytest.fixture(scope="module")
def verdict_tokens():
    return simple_tokenize(load_the_verdict())


@pytest.fixture(scope="module")
def vocab_v1(verdict_tokens):
    return build_vocab(verdict_tokens)


@pytest.fixture(scope="module")
def vocab_v2(verdict_tokens):
    return build_vocab(verdict_tokens, special_tokens=SPECIALS)


def test_simple_tokenize_separa_puntuacion_y_quita_espacios():
    assert simple_tokenize("Hello, world. Is this-- a test?") == [
        "Hello", ",", "world", ".", "Is", "this", "--", "a", "test", "?",
    ]
    assert simple_tokenize("  \n\t ") == []
    # Los tokens especiales no se parten (no contienen ningún separador)
    assert simple_tokenize("a <|endoftext|> b") == ["a", "<|endoftext|>", "b"]


def test_the_verdict_da_4690_tokens_y_1130_distintos(verdict_tokens, vocab_v1, vocab_v2):
    assert len(verdict_tokens) == 4690
    assert verdict_tokens[:6] == ["I", "HAD", "always", "thought", "Jack", "Gisburn"]
    assert len(vocab_v1) == 1130
    assert list(vocab_v1.items())[:3] == [("!", 0), ('"', 1), ("'", 2)]
    assert len(vocab_v2) == 1132
    assert list(vocab_v2.items())[-3:] == [("yourself", 1129), ("<|endoftext|>", 1130), ("<|unk|>", 1131)]


def test_build_vocab_ordena_y_numera_desde_cero():
    assert build_vocab(["b", "a", "b", "C"]) == {"C": 0, "a": 1, "b": 2}
    assert build_vocab(["b", "a"], special_tokens=["<|unk|>"]) == {"a": 0, "b": 1, "<|unk|>": 2}


def test_v1_ids_del_libro_y_decode(vocab_v1):
    tokenizer = SimpleTokenizerV1(vocab_v1)
    text = """"It's the last he painted, you know," Mrs. Gisburn said with pardonable pride."""
    ids = tokenizer.encode(text)
    assert ids == [1, 56, 2, 850, 988, 602, 533, 746, 5, 1126, 596, 5, 1, 67, 7, 38, 851, 1108, 754, 793, 7]
    assert tokenizer.decode(ids) == '" It\' s the last he painted, you know," Mrs. Gisburn said with pardonable pride.'


def test_v1_ida_y_vuelta_sobre_todo_el_relato(vocab_v1):
    tokenizer = SimpleTokenizerV1(vocab_v1)
    text = load_the_verdict()
    ids = tokenizer.encode(text)
    assert len(ids) == 4690
    # decode pierde los espacios originales, pero volver a codificar da los mismos ids
    assert tokenizer.encode(tokenizer.decode(ids)) == ids
    # Sin comillas ni paréntesis, el texto vuelve exacto
    assert tokenizer.decode(tokenizer.encode("Jack always thought: a genius!")) == "Jack always thought: a genius!"


def test_v1_palabra_desconocida_da_keyerror_en_espanol(vocab_v1):
    tokenizer = SimpleTokenizerV1(vocab_v1)
    with pytest.raises(KeyError, match=r"no están en el vocabulario: \['Hello', 'Madrid'\].*SimpleTokenizerV2"):
        tokenizer.encode("Hello, do you like tea in Madrid?")


def test_v2_cambia_desconocidas_por_unk(vocab_v2):
    tokenizer = SimpleTokenizerV2(vocab_v2)
    text = " <|endoftext|> ".join(("Hello, do you like tea?", "In the sunlit terraces of the palace."))
    ids = tokenizer.encode(text)
    assert ids == [1131, 5, 355, 1126, 628, 975, 10, 1130, 55, 988, 956, 984, 722, 988, 1131, 7]
    assert tokenizer.decode(ids) == "<|unk|>, do you like tea? <|endoftext|> In the sunlit terraces of the <|unk|>."


def test_v2_ida_y_vuelta_sin_palabras_desconocidas(vocab_v1, vocab_v2):
    text = load_the_verdict()
    ids = SimpleTokenizerV2(vocab_v2).encode(text)
    assert ids == SimpleTokenizerV1(vocab_v1).encode(text)  # mismos ids: los especiales van al final
    assert SimpleTokenizerV2(vocab_v2).encode(SimpleTokenizerV2(vocab_v2).decode(ids)) == ids


def test_v2_exige_unk_en_el_vocabulario(vocab_v1):
    with pytest.raises(ValueError, match=r"no tiene el token <\|unk\|>.*build_vocab"):
        SimpleTokenizerV2(vocab_v1)
