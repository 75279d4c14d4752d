"""Pruebas de GPTDatasetV1 y create_dataloader_v1 (seccion02_TrabajarDatosTexto/dataloader_v1.py).

Los lotes de referencia se obtuvieron una vez a mano con `llms_from_scratch.ch02.create_dataloader_v1`, el código del
autor del libro (con el mismo tokenizador), y coincidieron lote a lote en cinco configuraciones; aquí se guardan como
valores fijos para no depender de ese paquete.
"""

import math
import re

import pytest
import torch

from seccion02_TrabajarDatosTexto.dataloader_v1 import GPTDatasetV1, create_dataloader_v1
from seccion02_TrabajarDatosTexto.theVerdict import load_the_verdict
from seccion02_TrabajarDatosTexto.tokenizerGPT2 import get_tokenizer


class TokenizadorDeNumeros:
    """Tokenizador de prueba: el texto "0 1 2 ..." da los ids [0, 1, 2, ...]."""

    def encode(self, text, allowed_special=()):
        return [int(palabra) for palabra in text.split()]


def texto_de_numeros(n):
    return " ".join(str(i) for i in range(n))


@pytest.fixture(scope="module")
def raw_text():
    return load_the_verdict()


# --- Ventana deslizante -------------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("n_tokens", "max_length", "stride"),
    [(5, 4, 1), (6, 4, 1), (10, 4, 4), (13, 4, 4), (12, 4, 4), (20, 3, 2), (20, 3, 7), (9, 8, 100)],
)
def test_ventanas_cuenta_desplazamiento_y_contenido(n_tokens, max_length, stride):
    dataset = GPTDatasetV1(texto_de_numeros(n_tokens), TokenizadorDeNumeros(), max_length, stride)
    # Las ventanas empiezan en 0, stride, 2·stride, ... mientras quede sitio para la entrada y su objetivo
    assert len(dataset) == math.ceil((n_tokens - max_length) / stride)
    for k in range(len(dataset)):
        input_ids, target_ids = dataset[k]
        inicio = k * stride
        assert input_ids.tolist() == list(range(inicio, inicio + max_length))
        assert target_ids.tolist() == list(range(inicio + 1, inicio + max_length + 1))
    # No queda fuera ninguna ventana que cabría: la siguiente no tendría su token objetivo
    assert len(dataset) * stride + max_length >= n_tokens


def test_the_verdict_numero_de_ventanas_segun_stride(raw_text):
    tokenizer = get_tokenizer()
    cuentas = {stride: len(GPTDatasetV1(raw_text, tokenizer, 4, stride)) for stride in (1, 2, 4, 8)}
    assert cuentas == {1: 5141, 2: 2571, 4: 1286, 8: 643}


def test_objetivo_es_la_entrada_desplazada(raw_text):
    dataset = GPTDatasetV1(raw_text, get_tokenizer(), max_length=16, stride=5)
    for k in (0, 1, len(dataset) // 2, len(dataset) - 1):
        input_ids, target_ids = dataset[k]
        assert input_ids.shape == target_ids.shape == (16,)
        assert input_ids.dtype == target_ids.dtype == torch.long
        assert torch.equal(input_ids[1:], target_ids[:-1])


def test_endoftext_se_admite_como_token_especial():
    dataset = GPTDatasetV1("Hola. <|endoftext|> Adiós, mundo.", get_tokenizer(), max_length=4, stride=1)
    # "Hola. <|endoftext|> Adiós, mundo." -> [39, 5708, 13, 220, 50256, 1215, ...]
    assert dataset[1][0].tolist() == [5708, 13, 220, 50256]


# --- Cargador de datos: los lotes del libro ------------------------------------------------------------------------

def test_ejemplo_del_libro_sin_barajar(raw_text):
    dataloader = create_dataloader_v1(raw_text, batch_size=1, max_length=4, stride=1, shuffle=False)
    data_iter = iter(dataloader)
    first_inputs, first_targets = next(data_iter)
    assert first_inputs.tolist() == [[40, 367, 2885, 1464]]
    assert first_targets.tolist() == [[367, 2885, 1464, 1807]]
    second_inputs, second_targets = next(data_iter)
    assert second_inputs.tolist() == [[367, 2885, 1464, 1807]]
    assert second_targets.tolist() == [[2885, 1464, 1807, 3619]]
    assert len(dataloader) == 5141


def test_lote_de_8_sin_barajar_y_sin_solapamiento(raw_text):
    inputs, targets = next(iter(create_dataloader_v1(raw_text, batch_size=8, max_length=4, stride=4, shuffle=False)))
    assert inputs.tolist() == [
        [40, 367, 2885, 1464], [1807, 3619, 402, 271], [10899, 2138, 257, 7026], [15632, 438, 2016, 257],
        [922, 5891, 1576, 438], [568, 340, 373, 645], [1049, 5975, 284, 502], [284, 3285, 326, 11],
    ]
    assert targets[:, -1].tolist() == [1807, 10899, 15632, 922, 568, 1049, 284, 287]


def test_misma_semilla_mismos_lotes_que_el_libro(raw_text):
    torch.manual_seed(123)
    batches = list(create_dataloader_v1(raw_text, batch_size=8, max_length=4, stride=4, shuffle=True))
    assert len(batches) == 160  # 1286 ventanas; drop_last descarta las 6 del último lote incompleto
    inputs, targets = batches[0]
    assert inputs.tolist() == [
        [326, 7284, 35924, 262], [460, 1560, 345, 287], [1540, 558, 286, 2282], [314, 1276, 751, 11],
        [866, 287, 1070, 268], [3940, 416, 262, 1807], [736, 284, 262, 1396], [957, 1483, 286, 3619],
    ]
    assert targets.tolist() == [
        [7284, 35924, 262, 12306], [1560, 345, 287, 1936], [558, 286, 2282, 326], [1276, 751, 11, 339],
        [287, 1070, 268, 2288], [416, 262, 1807, 25], [284, 262, 1396, 417], [1483, 286, 3619, 338],
    ]
    assert batches[1][0].tolist() == [
        [13, 402, 271, 10899], [13, 632, 373, 407], [11555, 303, 7821, 13209], [47425, 278, 465, 5101],
        [465, 14475, 13, 198], [607, 1022, 262, 30623], [640, 11, 339, 581], [502, 314, 3521, 470],
    ]
    assert batches[-1][0].tolist() == [
        [287, 465, 2951, 13], [13, 314, 3505, 1972], [62, 438, 270, 561], [4808, 5562, 62, 465],
        [1701, 314, 1965, 11], [465, 5986, 438, 568], [2045, 510, 379, 262], [340, 262, 11644, 43778],
    ]


def test_misma_semilla_mismo_orden_y_otra_semilla_otro(raw_text):
    def primera_columna(semilla):
        torch.manual_seed(semilla)
        return [inputs[:, 0].tolist() for inputs, _ in create_dataloader_v1(raw_text, 4, 32, 32)]

    assert primera_columna(7) == primera_columna(7)
    assert primera_columna(7) != primera_columna(8)


def test_valores_por_defecto_del_libro(raw_text):
    torch.manual_seed(123)
    dataloader = create_dataloader_v1(raw_text)  # batch_size=4, max_length=256, stride=128, shuffle, drop_last
    assert len(dataloader.dataset) == math.ceil((5145 - 256) / 128) == 39
    assert len(dataloader) == 9
    inputs, targets = next(iter(dataloader))
    assert inputs.shape == targets.shape == (4, 256)
    assert torch.equal(inputs[:, 1:], targets[:, :-1])


def test_drop_last_false_entrega_el_lote_incompleto(raw_text):
    dataloader = create_dataloader_v1(raw_text, batch_size=8, max_length=4, stride=4, shuffle=False, drop_last=False)
    tamanos = [inputs.shape[0] for inputs, _ in dataloader]
    assert len(tamanos) == 161 and tamanos[-1] == 6 and sum(tamanos) == 1286


def test_pocas_ventanas_sin_drop_last_da_un_lote_parcial():
    dataloader = create_dataloader_v1("Hola, mundo. ¿Qué tal?", batch_size=4, max_length=4, stride=4, drop_last=False)
    assert [inputs.shape for inputs, _ in dataloader] == [(2, 4)]


# --- Errores claros en lugar de un cargador vacío ------------------------------------------------------------------

def test_texto_demasiado_corto():
    with pytest.raises(ValueError, match=r"El texto tiene 6 tokens; se necesitan al menos 9 .*max_length=8"):
        create_dataloader_v1("Hola, mundo.", batch_size=2, max_length=8, stride=8)
    with pytest.raises(ValueError, match=r"El texto tiene 0 tokens; se necesitan al menos 2"):
        GPTDatasetV1("", get_tokenizer(), max_length=1, stride=1)


def test_justo_max_length_mas_uno_tokens_da_una_ventana():
    assert len(GPTDatasetV1(texto_de_numeros(5), TokenizadorDeNumeros(), 4, 1)) == 1
    with pytest.raises(ValueError, match="El texto tiene 4 tokens; se necesitan al menos 5"):
        GPTDatasetV1(texto_de_numeros(4), TokenizadorDeNumeros(), 4, 1)


@pytest.mark.parametrize("nombre", ["max_length", "stride", "batch_size"])
@pytest.mark.parametrize("valor", [0, -1, 2.0, True, "4", None])
def test_enteros_no_positivos(raw_text, nombre, valor):
    argumentos = {"batch_size": 2, "max_length": 4, "stride": 4, nombre: valor}
    with pytest.raises(ValueError, match=rf"^{nombre} debe ser un entero mayor o igual que 1; has pasado {re.escape(repr(valor))} \("):
        create_dataloader_v1(raw_text, **argumentos)


@pytest.mark.parametrize("txt", [None, b"I HAD always thought", ["I", "HAD"], 42])
def test_texto_que_no_es_str(txt):
    with pytest.raises(ValueError, match=rf"txt debe ser una cadena de texto \(str\).*tipo {type(txt).__name__}\.$"):
        create_dataloader_v1(txt, batch_size=1, max_length=2, stride=1)


def test_menos_ventanas_que_batch_size_con_drop_last():
    with pytest.raises(ValueError, match=r"El texto da 2 ventana\(s\) de 4 tokens, menos que batch_size=4.*drop_last"):
        create_dataloader_v1("Hola, mundo. ¿Qué tal?", batch_size=4, max_length=4, stride=4)
