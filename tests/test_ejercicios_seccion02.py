"""Pruebas de las comprobaciones de los ejercicios de la sección 2 (seccion02_TrabajarDatosTexto/ejercicios.py).

Cada comprobación debe aceptar la solución, responder «todavía sin resolver» a la respuesta de partida (None),
rechazar los errores típicos diciendo qué está mal, y no lanzar nunca un error por una respuesta equivocada.
"""

import math

import pytest
import torch

from seccion02_TrabajarDatosTexto.dataloader_v1 import create_dataloader_v1
from seccion02_TrabajarDatosTexto.ejercicios import (
    comprobar_ejercicio_2_1,
    comprobar_ejercicio_2_2,
    comprobar_ejercicio_2_3,
    comprobar_ejercicio_2_4,
    comprobar_ejercicio_2_5,
    comprobar_ejercicio_2_6,
    comprobar_ejercicio_2_7,
)
from seccion02_TrabajarDatosTexto.simpleTokenizer import SimpleTokenizerV2, build_vocab, simple_tokenize
from seccion02_TrabajarDatosTexto.theVerdict import load_the_verdict
from seccion02_TrabajarDatosTexto.tokenizerGPT2 import get_tokenizer

# Los datos de los enunciados de los cuadernos
FRASE_ES = "El pintor guardó sus pinceles y nunca volvió a pintar."
FRASE_EN = "The painter put away his brushes and never painted again."
TEXTO_CORTO = "I painted the portrait. She hung the portrait in the studio."
FRASE = "She sold the portrait."
ESPECIALES = ["<|endoftext|>", "<|unk|>"]


def _salida(capsys) -> str:
    return capsys.readouterr().out


@pytest.fixture(scope="module")
def tokenizer():
    return get_tokenizer()


@pytest.fixture(scope="module")
def raw_text():
    return load_the_verdict()


# --- Ejercicio 2.1 ---------------------------------------------------------------------------------------------------

def _solucion_2_1(tokenizer, texto):
    ids = tokenizer.encode(texto)
    trozos = [tokenizer.decode([i]) for i in ids]
    return ids, trozos, "".join(trozos)


def test_2_1_acepta_la_solucion(capsys, tokenizer):
    ids, trozos, reconstruido = _solucion_2_1(tokenizer, "Akwirw ier")
    assert ids == [33901, 86, 343, 86, 220, 959]
    assert comprobar_ejercicio_2_1("Akwirw ier", ids, trozos, reconstruido) is True
    assert _salida(capsys) == "Ejercicio 2.1: ¡correcto!\n"
    # Con otra palabra inventada, y con los ids en un tensor
    ids, trozos, reconstruido = _solucion_2_1(tokenizer, "Zorblat quenx")
    assert comprobar_ejercicio_2_1("Zorblat quenx", torch.tensor(ids), trozos, reconstruido) is True


def test_2_1_sin_resolver(capsys):
    assert comprobar_ejercicio_2_1("Akwirw ier", None, None, None) is False
    assert _salida(capsys) == "Ejercicio 2.1: todavía sin resolver.\n"


def test_2_1_unir_con_espacios_y_decodificar_todo_junto(capsys, tokenizer):
    """Los errores típicos: decodificar todos los ids a la vez y pegar los trozos con espacios."""
    ids, trozos, _ = _solucion_2_1(tokenizer, "Akwirw ier")
    assert comprobar_ejercicio_2_1("Akwirw ier", ids, tokenizer.decode(ids), " ".join(trozos)) is False
    salida = _salida(capsys)
    assert "todavía no está bien" in salida
    assert "trozos es una sola cadena: has decodificado todos los ids a la vez" in salida
    assert "reconstruido = 'Ak w ir w   ier' tiene espacios de más" in salida


def test_2_1_bytes_ids_de_otro_texto_y_a_medias(capsys, tokenizer):
    ids, trozos, reconstruido = _solucion_2_1(tokenizer, "Akwirw ier")
    en_bytes = [tokenizer.decode_single_token_bytes(i) for i in ids]
    assert comprobar_ejercicio_2_1("Akwirw ier", ids, en_bytes, reconstruido) is False
    assert "trozos tiene bytes (b'...')" in _salida(capsys)

    assert comprobar_ejercicio_2_1("Akwirw ier", tokenizer.encode("akwirw ier"), trozos, reconstruido) is False
    assert "pero tokenizer.encode('Akwirw ier') da [33901, 86, 343, 86, 220, 959]" in _salida(capsys)

    assert comprobar_ejercicio_2_1("Akwirw ier", ids, None, None) is False
    salida = _salida(capsys)
    assert "trozos sigue valiendo None" in salida and "reconstruido sigue valiendo None" in salida


def test_2_1_un_caracter_partido_en_bytes(capsys, tokenizer):
    """«Ñ» ocupa dos tokens de un byte: pegar los trozos da «�», y la comprobación explica por qué."""
    ids, trozos, reconstruido = _solucion_2_1(tokenizer, "Ñandú")
    assert reconstruido != "Ñandú"
    assert comprobar_ejercicio_2_1("Ñandú", ids, trozos, reconstruido) is False
    assert "algún id es un trozo de un carácter" in _salida(capsys)
    assert comprobar_ejercicio_2_1("Ñandú", ids, trozos, tokenizer.decode(ids)) is True


# --- Ejercicio 2.2 ---------------------------------------------------------------------------------------------------

def test_2_2_acepta_la_solucion(capsys, tokenizer):
    n_es, n_en = len(tokenizer.encode(FRASE_ES)), len(tokenizer.encode(FRASE_EN))
    assert (n_es, n_en) == (19, 11)
    assert comprobar_ejercicio_2_2(FRASE_ES, FRASE_EN, n_es, n_en, n_es / n_en) is True
    assert comprobar_ejercicio_2_2(FRASE_ES, FRASE_EN, n_es, n_en, round(n_es / n_en, 2)) is True
    assert _salida(capsys) == "Ejercicio 2.2: ¡correcto!\n" * 2


def test_2_2_sin_resolver(capsys):
    assert comprobar_ejercicio_2_2(FRASE_ES, FRASE_EN, None, None, None) is False
    assert _salida(capsys) == "Ejercicio 2.2: todavía sin resolver.\n"


def test_2_2_caracteres_palabras_y_razon_al_reves(capsys):
    assert comprobar_ejercicio_2_2(FRASE_ES, FRASE_EN, len(FRASE_ES), len(FRASE_EN.split()), 11 / 19) is False
    salida = _salida(capsys)
    assert "n_es = 54 es su número de caracteres" in salida
    assert "n_en = 10 es su número de palabras" in salida
    assert "razon = 0.579 está al revés" in salida and "n_es / n_en = 1.727" in salida


def test_2_2_tokens_de_simple_tokenize(capsys):
    n_es, n_en = len(simple_tokenize(FRASE_ES)), len(simple_tokenize(FRASE_EN))
    assert comprobar_ejercicio_2_2(FRASE_ES, FRASE_EN, n_es, n_en, n_es / n_en) is False
    salida = _salida(capsys)
    assert "son los tokens de simple_tokenize" in salida
    assert "es n_es / n_en con tus cuentas, pero las cuentas no son las de BPE" in salida


# --- Ejercicio 2.3 ---------------------------------------------------------------------------------------------------

def _solucion_2_3():
    vocab = build_vocab(simple_tokenize(TEXTO_CORTO), special_tokens=ESPECIALES)
    tokenizer = SimpleTokenizerV2(vocab)
    ids = tokenizer.encode(FRASE)
    return vocab, ids, tokenizer.decode(ids)


def test_2_3_acepta_la_solucion(capsys):
    vocab, ids, decodificada = _solucion_2_3()
    assert len(vocab) == 11 and ids == [2, 10, 8, 6, 0] and decodificada == "She <|unk|> the portrait."
    assert comprobar_ejercicio_2_3(TEXTO_CORTO, FRASE, vocab, ids, decodificada) is True
    assert _salida(capsys) == "Ejercicio 2.3: ¡correcto!\n"


def test_2_3_sin_resolver(capsys):
    assert comprobar_ejercicio_2_3(TEXTO_CORTO, FRASE, None, None, None) is False
    assert _salida(capsys) == "Ejercicio 2.3: todavía sin resolver.\n"


def test_2_3_el_vocabulario_de_the_verdict(capsys, raw_text):
    """El error típico: reutilizar `vocab`, el del relato, y copiar la frase como decodificada."""
    vocab = build_vocab(simple_tokenize(raw_text), special_tokens=ESPECIALES)
    ids = SimpleTokenizerV2(vocab).encode(FRASE)
    assert comprobar_ejercicio_2_3(TEXTO_CORTO, FRASE, vocab, ids, FRASE) is False
    salida = _salida(capsys)
    assert "vocab_corto tiene 1 132 tokens: es el vocabulario de otro texto" in salida
    assert "frase se codifica como [2, 10, 8, 6, 0]" in salida
    assert "frase_decodificada es la frase original" in salida


def test_2_3_sin_especiales_en_otro_orden_o_con_split(capsys):
    tokens = simple_tokenize(TEXTO_CORTO)
    _, ids, decodificada = _solucion_2_3()
    assert comprobar_ejercicio_2_3(TEXTO_CORTO, FRASE, build_vocab(tokens), ids, decodificada) is False
    assert "le faltan los tokens especiales ['<|endoftext|>', '<|unk|>']" in _salida(capsys)

    al_reves = build_vocab(tokens, special_tokens=["<|unk|>", "<|endoftext|>"])
    assert comprobar_ejercicio_2_3(TEXTO_CORTO, FRASE, al_reves, ids, decodificada) is False
    assert "tiene los tokens correctos, pero con otros ids" in _salida(capsys)

    con_split = build_vocab(TEXTO_CORTO.split(), special_tokens=ESPECIALES)
    assert comprobar_ejercicio_2_3(TEXTO_CORTO, FRASE, con_split, ids, decodificada) is False
    assert "lo troceaste con split()" in _salida(capsys)


# --- Ejercicio 2.4 ---------------------------------------------------------------------------------------------------

def test_2_4_acepta_la_solucion(capsys, raw_text):
    cargador_2 = create_dataloader_v1(raw_text, batch_size=4, max_length=2, stride=2, shuffle=False)
    cargador_8 = create_dataloader_v1(raw_text, batch_size=4, max_length=8, stride=2, shuffle=False)
    assert comprobar_ejercicio_2_4(cargador_2, cargador_8) is True
    assert _salida(capsys) == "Ejercicio 2.4: ¡correcto!\n"
    assert next(iter(cargador_2))[0].shape == (4, 2) and next(iter(cargador_8))[0].shape == (4, 8)


def test_2_4_sin_resolver(capsys):
    assert comprobar_ejercicio_2_4(None, None) is False
    assert _salida(capsys) == "Ejercicio 2.4: todavía sin resolver.\n"


def test_2_4_stride_igual_a_max_length_y_barajado(capsys, raw_text):
    """Los errores típicos: stride=max_length en el segundo cargador y olvidar shuffle=False."""
    cargador_2 = create_dataloader_v1(raw_text, batch_size=4, max_length=2, stride=2, shuffle=False)
    cargador_8 = create_dataloader_v1(raw_text, batch_size=4, max_length=8, stride=8)
    assert comprobar_ejercicio_2_4(cargador_2, cargador_8) is False
    salida = _salida(capsys)
    assert "cargador_8 baraja las ventanas (shuffle=True)" in salida
    assert "Las ventanas de cargador_8 avanzan 8 tokens cada vez (stride=8); el ejercicio pide stride=2" in salida
    assert "cargador_2" not in salida


def test_2_4_tamanos_cambiados_otro_texto_y_tipos(capsys, raw_text):
    cambiado = create_dataloader_v1(raw_text, batch_size=2, max_length=8, stride=2, shuffle=False)
    assert comprobar_ejercicio_2_4(cambiado, None) is False
    salida = _salida(capsys)
    assert "cargador_2 da lotes de 2 ventanas; el ejercicio pide batch_size=4" in salida
    assert "Las ventanas de cargador_2 tienen 8 tokens; el ejercicio pide max_length=2" in salida
    assert "cargador_8 sigue valiendo None" in salida

    otro_texto = create_dataloader_v1(raw_text[1000:], batch_size=4, max_length=2, stride=2, shuffle=False)
    assert comprobar_ejercicio_2_4(otro_texto, otro_texto) is False
    assert "son el mismo objeto" in _salida(capsys)
    assert comprobar_ejercicio_2_4(otro_texto, "cargador") is False
    salida = _salida(capsys)
    assert "La primera ventana de cargador_2 no es el principio de «The Verdict»" in salida
    assert "cargador_8 debe ser el DataLoader" in salida


# --- Ejercicio 2.5 ---------------------------------------------------------------------------------------------------

def test_2_5_acepta_la_solucion_y_coincide_con_los_cargadores(capsys, raw_text):
    descartando = create_dataloader_v1(raw_text, batch_size=4, max_length=256, stride=128, drop_last=True)
    sin_descartar = create_dataloader_v1(raw_text, batch_size=4, max_length=256, stride=128, drop_last=False)
    assert (len(descartando.dataset), len(descartando), len(sin_descartar)) == (39, 9, 10)
    assert comprobar_ejercicio_2_5(math.ceil((5145 - 256) / 128), 39 // 4, math.ceil(39 / 4)) is True
    assert comprobar_ejercicio_2_5(torch.tensor(39), 9, 10) is True
    assert _salida(capsys) == "Ejercicio 2.5: ¡correcto!\n" * 2


def test_2_5_sin_resolver(capsys):
    assert comprobar_ejercicio_2_5(None, None, None) is False
    assert _salida(capsys) == "Ejercicio 2.5: todavía sin resolver.\n"


def test_2_5_redondear_hacia_abajo(capsys):
    assert comprobar_ejercicio_2_5((5145 - 256) // 128, 9, 10) is False
    salida = _salida(capsys)
    assert "num_ventanas = 38: redondeaste hacia abajo" in salida and "⌈4 889 / 128⌉" in salida


def test_2_5_sin_restar_max_length_y_lotes_de_esas_ventanas(capsys):
    assert comprobar_ejercicio_2_5(41, 41 // 4, math.ceil(41 / 4)) is False
    salida = _salida(capsys)
    assert "num_ventanas = 41: no has restado max_length" in salida
    assert "num_lotes_descartando está bien calculado a partir de tu num_ventanas" in salida
    assert "num_lotes_sin_descartar está bien calculado a partir de tu num_ventanas" in salida


def test_2_5_lotes_cambiados_sin_solapar_y_decimales(capsys):
    assert comprobar_ejercicio_2_5(39, 10, 9) is False
    assert "Los dos números de lotes están cambiados" in _salida(capsys)

    assert comprobar_ejercicio_2_5(5145 // 256, 9, 10) is False
    assert "num_ventanas = 20 sería la cuenta con ventanas sin solapar" in _salida(capsys)

    assert comprobar_ejercicio_2_5(39.0, 9.75, 10) is False
    salida = _salida(capsys)
    assert "num_ventanas debe ser un número entero" in salida
    assert "num_lotes_descartando debe ser un número entero" in salida

    assert comprobar_ejercicio_2_5(39, 9, None) is False
    assert "num_lotes_sin_descartar sigue valiendo None" in _salida(capsys)


# --- Ejercicio 2.6 ---------------------------------------------------------------------------------------------------

@pytest.fixture()
def lote_2x6(raw_text):
    cargador = create_dataloader_v1(raw_text, batch_size=2, max_length=6, stride=6, shuffle=False)
    return next(iter(cargador))[0]


def _capas(filas_posicion=6):
    torch.manual_seed(123)
    return torch.nn.Embedding(50257, 12), torch.nn.Embedding(filas_posicion, 12)


def test_2_6_acepta_la_solucion(capsys, lote_2x6):
    tok_emb, pos_emb = _capas()
    embeddings = tok_emb(lote_2x6) + pos_emb(torch.arange(6))
    assert embeddings.shape == (2, 6, 12)
    assert comprobar_ejercicio_2_6(lote_2x6, tok_emb, pos_emb, embeddings) is True
    assert _salida(capsys) == "Ejercicio 2.6: ¡correcto!\n"


def test_2_6_sin_resolver_y_a_medias(capsys, lote_2x6):
    assert comprobar_ejercicio_2_6(None, None, None, None) is False
    assert _salida(capsys) == "Ejercicio 2.6: todavía sin resolver.\n"

    tok_emb, _ = _capas()
    assert comprobar_ejercicio_2_6(lote_2x6, tok_emb, None, None) is False
    salida = _salida(capsys)
    assert "pos_emb sigue valiendo None" in salida and "input_embeddings_2x6 sigue valiendo None" in salida


def test_2_6_sin_posiciones(capsys, lote_2x6):
    tok_emb, pos_emb = _capas()
    assert comprobar_ejercicio_2_6(lote_2x6, tok_emb, pos_emb, tok_emb(lote_2x6)) is False
    assert "son solo los embeddings de tokens: falta sumar los de posición" in _salida(capsys)


def test_2_6_posiciones_con_una_fila_por_token_y_concatenar(capsys, lote_2x6):
    tok_emb, pos_emb = _capas(filas_posicion=50257)
    concatenados = torch.cat([tok_emb(lote_2x6), pos_emb(torch.arange(6)).expand(2, 6, 12)], dim=-1)
    assert comprobar_ejercicio_2_6(lote_2x6, tok_emb, pos_emb, concatenados) is False
    salida = _salida(capsys)
    assert "pos_emb tiene 50 257 filas; necesita una por posición (6, la longitud de contexto)" in salida
    assert "tiene forma (2, 6, 24): has concatenado los dos embeddings" in salida


def test_2_6_lote_barajado_o_con_objetivos(capsys, raw_text, lote_2x6):
    tok_emb, pos_emb = _capas()
    torch.manual_seed(123)
    barajado = next(iter(create_dataloader_v1(raw_text, batch_size=2, max_length=6, stride=6)))[0]
    embeddings = tok_emb(barajado) + pos_emb(torch.arange(6))
    assert comprobar_ejercicio_2_6(barajado, tok_emb, pos_emb, embeddings) is False
    assert "inputs_2x6 no son los 12 primeros tokens del relato" in _salida(capsys)

    assert comprobar_ejercicio_2_6(torch.stack([lote_2x6, lote_2x6]), tok_emb, pos_emb, embeddings) is False
    assert "inputs_2x6 tiene forma (2, 2, 6)" in _salida(capsys)


# --- Ejercicio 2.7 ---------------------------------------------------------------------------------------------------

def test_2_7_acepta_la_solucion(capsys):
    def desplazado_uno(inputs, targets):
        return inputs.shape == targets.shape and torch.equal(inputs[:, 1:], targets[:, :-1])

    assert comprobar_ejercicio_2_7(desplazado_uno) is True
    # También si devuelve un tensor de un solo bool
    assert comprobar_ejercicio_2_7(lambda x, y: (x[:, 1:] == y[:, :-1]).all()) is True
    assert _salida(capsys) == "Ejercicio 2.7: ¡correcto!\n" * 2


def test_2_7_sin_resolver(capsys):
    assert comprobar_ejercicio_2_7(None) is False
    assert _salida(capsys) == "Ejercicio 2.7: todavía sin resolver.\n"


def test_2_7_al_reves_y_solo_la_primera_fila(capsys):
    assert comprobar_ejercicio_2_7(lambda x, y: torch.equal(x[:, :-1], y[:, 1:])) is False
    salida = _salida(capsys)
    assert "Con el primer lote del cargador del apartado 4 (8 × 4), desplazado_uno devuelve False" in salida

    assert comprobar_ejercicio_2_7(lambda x, y: torch.equal(x[0, 1:], y[0, :-1])) is False
    assert "Con un lote en el que solo la última fila está mal, desplazado_uno devuelve True" in _salida(capsys)


def test_2_7_filas_consecutivas_siempre_true_y_sin_bool(capsys):
    assert comprobar_ejercicio_2_7(lambda x, y: torch.equal(y[:-1, -1], x[1:, 0])) is False
    assert "Con un lote de ventanas sueltas de 6 tokens, como los barajados" in _salida(capsys)

    assert comprobar_ejercicio_2_7(lambda x, y: True) is False
    salida = _salida(capsys)
    assert "Con objetivos iguales a las entradas, desplazado_uno devuelve True; debería devolver False" in salida

    assert comprobar_ejercicio_2_7(lambda x, y: None) is False
    salida = _salida(capsys)
    assert salida.count("debe devolver True o False") == 1

    assert comprobar_ejercicio_2_7(lambda x: True) is False
    assert "TypeError" in _salida(capsys)


# --- Ninguna comprobación toca el generador aleatorio ni lanza errores ----------------------------------------------

@pytest.mark.parametrize("comprobar,argumentos", [
    (comprobar_ejercicio_2_1, (42, "basura", "basura", "basura")),
    (comprobar_ejercicio_2_1, ("Akwirw ier", "basura", 3, 4)),
    (comprobar_ejercicio_2_2, ("basura", "basura", "basura", "basura", "basura")),
    (comprobar_ejercicio_2_2, (None, None, 1, 2, 3)),
    (comprobar_ejercicio_2_3, ("basura", "basura", "basura", "basura", 42)),
    (comprobar_ejercicio_2_4, ("basura", 42)),
    (comprobar_ejercicio_2_5, ("basura", "basura", "basura")),
    (comprobar_ejercicio_2_6, ("basura", "basura", "basura", "basura")),
    (comprobar_ejercicio_2_7, ("basura",)),
])
def test_respuestas_sin_sentido_no_lanzan_errores(capsys, comprobar, argumentos):
    assert comprobar(*argumentos) is False
    assert "todavía no está bien" in _salida(capsys)


def test_las_comprobaciones_no_gastan_numeros_aleatorios(capsys, raw_text, lote_2x6):
    """Comprobar una respuesta no cambia los números que sortean las celdas siguientes del cuaderno, aunque la
    función del alumno sortee números o el cargador baraje."""
    def desplazado_uno(inputs, targets):
        torch.rand(3)  # una función que gasta números aleatorios
        return torch.equal(inputs[:, 1:], targets[:, :-1])

    barajado = create_dataloader_v1(raw_text, batch_size=4, max_length=8, stride=2)
    tok_emb, pos_emb = _capas()
    embeddings = tok_emb(lote_2x6) + pos_emb(torch.arange(6))
    torch.manual_seed(123)
    estado = torch.get_rng_state()
    assert comprobar_ejercicio_2_7(desplazado_uno) is True
    assert comprobar_ejercicio_2_4(barajado, barajado) is False
    assert comprobar_ejercicio_2_4(None, barajado) is False
    assert comprobar_ejercicio_2_6(lote_2x6, tok_emb, pos_emb, embeddings) is True
    assert torch.equal(torch.get_rng_state(), estado)
