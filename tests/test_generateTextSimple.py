"""Pruebas de generate_text_simple: decodificación voraz y recorte del contexto.

El texto de referencia del modelo de 124M se comprueba en tests/test_gptModel.py.
"""

import ast
import inspect
import textwrap

import pytest
import torch
import torch.nn as nn

from seccion04_ImplementacionGPTGeneracionTexto.generateTextSimple import generate_text_simple
from seccion04_ImplementacionGPTGeneracionTexto.gptModel import GPTModel
from tests.configuraciones import CFG_DIMINUTA

CFG = CFG_DIMINUTA


class ModeloEspia(nn.Module):
    """Modelo falso: anota cada entrada que recibe y predice siempre «último token + 1» (módulo vocab_size)."""

    def __init__(self, vocab_size=50, context_length=4):
        super().__init__()
        self.vocab_size, self.context_length = vocab_size, context_length
        # Solo para que check_generation_args lea vocab_size y context_length, como en un GPTModel
        self.tok_emb = nn.Embedding(vocab_size, 1)
        self.pos_emb = nn.Embedding(context_length, 1)
        self.entradas = []

    def forward(self, idx):
        assert idx.shape[1] <= self.context_length, "el modelo ha recibido más tokens que su contexto"
        self.entradas.append(idx.clone())
        siguiente = (idx + 1) % self.vocab_size  # (b, n)
        return nn.functional.one_hot(siguiente, self.vocab_size).float() * 5.0  # logits (b, n, vocab_size)


def _modelo_pequeno(**cambios):
    torch.manual_seed(123)
    return GPTModel({**CFG, **cambios}).eval()


def test_recorta_el_contexto_a_los_ultimos_context_size_tokens():
    espia = ModeloEspia(vocab_size=50, context_length=4)
    prompt = torch.tensor([[10, 11, 12, 13, 14, 15, 16, 17, 18, 19]])  # 10 tokens, contexto de 4
    salida = generate_text_simple(espia, prompt, max_new_tokens=3, context_size=4)

    assert salida.tolist() == [[10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22]]
    assert [e.tolist() for e in espia.entradas] == [[[16, 17, 18, 19]], [[17, 18, 19, 20]], [[18, 19, 20, 21]]]


def test_prompt_mas_corto_que_el_contexto_llega_entero():
    espia = ModeloEspia(vocab_size=50, context_length=4)
    salida = generate_text_simple(espia, torch.tensor([[48, 49]]), max_new_tokens=3, context_size=4)
    assert salida.tolist() == [[48, 49, 0, 1, 2]]  # 49 + 1 da la vuelta al vocabulario
    assert [e.shape[1] for e in espia.entradas] == [2, 3, 4]


def test_con_un_gpt_de_contexto_corto_solo_cuentan_los_ultimos_tokens():
    modelo = _modelo_pequeno(context_length=4)
    torch.manual_seed(0)
    prompt = torch.randint(0, 50257, (2, 10))
    otro_principio = torch.cat([torch.randint(0, 50257, (2, 6)), prompt[:, -4:]], dim=1)

    salida = generate_text_simple(modelo, prompt, max_new_tokens=5, context_size=4)
    assert salida.shape == (2, 15)
    assert torch.equal(salida[:, :10], prompt)
    # Lo que hay antes de los 4 últimos tokens no influye en los tokens nuevos
    assert torch.equal(generate_text_simple(modelo, otro_principio, 5, 4)[:, 10:], salida[:, 10:])
    assert torch.equal(generate_text_simple(modelo, prompt[:, -4:], 5, 4)[:, 4:], salida[:, 10:])


def test_elige_el_token_mas_probable_en_cada_paso():
    modelo = _modelo_pequeno()
    idx = torch.tensor([[6109, 3626, 6100, 345], [40, 1107, 588, 11311]])
    esperado = idx.clone()
    with torch.no_grad():
        for _ in range(4):
            siguiente = modelo(esperado)[:, -1, :].argmax(dim=-1, keepdim=True)
            esperado = torch.cat([esperado, siguiente], dim=1)
    assert torch.equal(generate_text_simple(modelo, idx, max_new_tokens=4, context_size=16), esperado)


def test_sin_tokens_nuevos_devuelve_la_entrada():
    idx = torch.tensor([[1, 2, 3]])
    assert torch.equal(generate_text_simple(_modelo_pequeno(), idx, max_new_tokens=0, context_size=16), idx)


def test_no_calcula_gradientes():
    modelo = _modelo_pequeno()
    salida = generate_text_simple(modelo, torch.tensor([[1, 2, 3]]), max_new_tokens=2, context_size=16)
    assert salida.dtype == torch.long and not salida.requires_grad
    assert all(p.grad is None for p in modelo.parameters())


@pytest.mark.parametrize(
    ("argumentos", "mensaje"),
    [
        ({"context_size": 0}, r"^context_size debe ser un entero entre 1 y 16 \(o None\); has pasado 0 \(int\)"),
        ({"context_size": -1}, r"^context_size debe ser un entero entre 1 y 16 \(o None\); has pasado -1 \(int\)"),
        ({"context_size": 4.0}, r"^context_size debe ser un entero entre 1 y 16 \(o None\); has pasado 4\.0"),
        ({"max_new_tokens": -1}, r"^max_new_tokens debe ser un entero mayor o igual que 0; has pasado -1 \(int\)"),
        ({"idx": torch.tensor([1, 2, 3])}, r"^idx debe tener forma \(lote, num_tokens\); .*idx\.unsqueeze\(0\)\.$"),
        ({"idx": torch.zeros(1, 0, dtype=torch.long)}, r"^idx debe tener al menos un texto y un token"),
        ({"idx": torch.tensor([[1.0, 2.0]])}, r"^Los ids de idx deben ser enteros torch\.long"),
    ],
)
def test_argumentos_no_validos_dan_error_en_espanol(argumentos, mensaje):
    completos = {"idx": torch.tensor([[1, 2, 3]]), "max_new_tokens": 2, "context_size": 16, **argumentos}
    with pytest.raises(ValueError, match=mensaje):
        generate_text_simple(_modelo_pequeno(), **completos)


def test_context_size_none_usa_el_contexto_del_modelo():
    espia = ModeloEspia(vocab_size=50, context_length=4)
    salida = generate_text_simple(espia, torch.tensor([[10, 11, 12, 13, 14]]), max_new_tokens=2, context_size=None)
    assert salida.tolist() == [[10, 11, 12, 13, 14, 15, 16]]
    assert [e.tolist() for e in espia.entradas] == [[[11, 12, 13, 14]], [[12, 13, 14, 15]]]


def test_empieza_validando_con_check_generation_args():
    """Una sola validación para todos los generadores: la primera instrucción llama a check_generation_args."""
    cuerpo = ast.parse(textwrap.dedent(inspect.getsource(generate_text_simple))).body[0].body
    primera = cuerpo[1]  # cuerpo[0] es el docstring
    assert ast.unparse(primera) == (
        "context_size = check_generation_args(model, idx, max_new_tokens, context_size)"
    )
