"""Pruebas de la sección 3: SelfAttention_v1, SelfAttention_v2, CausalAttention, MultiHeadAttentionWrapper y
MultiHeadAttention.

Los valores de referencia (4 decimales) salen de las clases de `llms_from_scratch.ch03` (paquete llms-from-scratch
1.0.19, el código del libro), ejecutadas una vez a mano con las mismas semillas y las mismas entradas, y coinciden con
los que imprime el libro (capítulo 3). Las pruebas no dependen de ese paquete. Además, cada clase se compara con otra
implementación independiente (`F.scaled_dot_product_attention`, la otra versión de la misma clase).
"""

import ast
from pathlib import Path

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from seccion03_MecanismosAtencion.causalAttention import CausalAttention
from seccion03_MecanismosAtencion.multiHeadAttention import MultiHeadAttention, MultiHeadAttentionWrapper
from seccion03_MecanismosAtencion.selfAttention import SelfAttention_v1, SelfAttention_v2
from tests.configuraciones import CFG_DIMINUTA
from tests.cuadernos import RAIZ

# Los embeddings de 3 dimensiones de «Your journey starts with one step» que usa el libro
INPUTS = torch.tensor(
    [[0.43, 0.15, 0.89],  # Your
     [0.55, 0.87, 0.66],  # journey
     [0.57, 0.85, 0.64],  # starts
     [0.22, 0.58, 0.33],  # with
     [0.77, 0.25, 0.10],  # one
     [0.05, 0.80, 0.55]]  # step
)
BATCH = torch.stack((INPUTS, INPUTS), dim=0)  # (2, 6, 3), como en el libro


def _assert_valores(obtenido, esperado):
    torch.testing.assert_close(obtenido, torch.tensor(esperado), rtol=0, atol=1e-4)


# --- Valores del libro ----------------------------------------------------------------------------------------------

# llms-from-scratch 1.0.19 (ch03) y el libro, capítulo 3: torch.manual_seed(123); SelfAttention_v1(3, 2)
ESPERADO_V1 = [[0.2996, 0.8053], [0.3061, 0.8210], [0.3058, 0.8203],
               [0.2948, 0.7939], [0.2927, 0.7891], [0.2990, 0.8040]]
# llms-from-scratch 1.0.19 (ch03) y el libro: torch.manual_seed(789); SelfAttention_v2(3, 2)
ESPERADO_V2 = [[-0.0739, 0.0713], [-0.0748, 0.0703], [-0.0749, 0.0702],
               [-0.0760, 0.0685], [-0.0763, 0.0679], [-0.0754, 0.0693]]
# llms-from-scratch 1.0.19 (ch03) y el libro: torch.manual_seed(123); CausalAttention(3, 2, 6, 0.0), cada texto del lote
ESPERADO_CAUSAL = [[-0.4519, 0.2216], [-0.5874, 0.0058], [-0.6300, -0.0632],
                   [-0.5675, -0.0843], [-0.5526, -0.0981], [-0.5299, -0.1081]]
# llms-from-scratch 1.0.19 (ch03) y el libro: torch.manual_seed(123); MultiHeadAttentionWrapper(3, 2, 6, 0.0, num_heads=2)
ESPERADO_WRAPPER = [[-0.4519, 0.2216, 0.4772, 0.1063], [-0.5874, 0.0058, 0.5891, 0.3257],
                    [-0.6300, -0.0632, 0.6202, 0.3860], [-0.5675, -0.0843, 0.5478, 0.3589],
                    [-0.5526, -0.0981, 0.5321, 0.3428], [-0.5299, -0.1081, 0.5077, 0.3493]]
# llms-from-scratch 1.0.19 (ch03) y el libro: torch.manual_seed(123); MultiHeadAttention(3, 2, 6, 0.0, num_heads=2)
ESPERADO_MHA = [[0.3190, 0.4858], [0.2943, 0.3897], [0.2856, 0.3593],
                [0.2693, 0.3873], [0.2639, 0.3928], [0.2575, 0.4028]]


def test_self_attention_v1_valores_del_libro():
    torch.manual_seed(123)
    sa_v1 = SelfAttention_v1(3, 2)
    with torch.no_grad():
        context_vecs = sa_v1(INPUTS)
    assert context_vecs.shape == (6, 2)
    _assert_valores(context_vecs, ESPERADO_V1)


def test_self_attention_v2_valores_del_libro():
    torch.manual_seed(789)
    sa_v2 = SelfAttention_v2(3, 2)
    with torch.no_grad():
        context_vecs = sa_v2(INPUTS)
    assert context_vecs.shape == (6, 2)
    _assert_valores(context_vecs, ESPERADO_V2)


@pytest.mark.parametrize("clase,kwargs,esperado,d_salida", [
    (CausalAttention, {}, ESPERADO_CAUSAL, 2),
    (MultiHeadAttentionWrapper, {"num_heads": 2}, ESPERADO_WRAPPER, 4),
    (MultiHeadAttention, {"num_heads": 2}, ESPERADO_MHA, 2),
])
def test_atencion_causal_valores_del_libro(clase, kwargs, esperado, d_salida):
    torch.manual_seed(123)
    capa = clase(3, 2, 6, 0.0, **kwargs)
    with torch.no_grad():
        context_vecs = capa(BATCH)
    assert context_vecs.shape == (2, 6, d_salida)
    _assert_valores(context_vecs[0], esperado)
    _assert_valores(context_vecs[1], esperado)  # los dos textos del lote son iguales


# --- Formas y estructura --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("clase", [SelfAttention_v1, SelfAttention_v2])
def test_self_attention_formas(clase):
    assert clase(5, 7)(torch.rand(4, 5)).shape == (4, 7)
    assert clase(5, 7)(torch.rand(1, 5)).shape == (1, 7)


@pytest.mark.parametrize("num_tokens", [1, 5, 8])
def test_atencion_causal_formas_con_textos_cortos(num_tokens):
    x = torch.rand(3, num_tokens, 5)
    assert CausalAttention(5, 7, 8, 0.0)(x).shape == (3, num_tokens, 7)
    assert MultiHeadAttentionWrapper(5, 7, 8, 0.0, num_heads=3)(x).shape == (3, num_tokens, 21)
    assert MultiHeadAttention(5, 6, 8, 0.0, num_heads=3)(x).shape == (3, num_tokens, 6)


def test_estructura_y_state_dict():
    sa_v1 = SelfAttention_v1(3, 2)
    assert [n for n, _ in sa_v1.named_parameters()] == ["W_query", "W_key", "W_value"]
    assert sa_v1.W_query.shape == (3, 2)

    sa_v2 = SelfAttention_v2(3, 2)
    assert [n for n, _ in sa_v2.named_children()] == ["W_query", "W_key", "W_value"]
    assert sa_v2.W_query.weight.shape == (2, 3) and sa_v2.W_query.bias is None
    assert SelfAttention_v2(3, 2, qkv_bias=True).W_key.bias.shape == (2,)

    ca = CausalAttention(3, 2, 6, 0.1)
    assert ca.d_out == 2 and ca.dropout.p == 0.1
    assert [n for n, _ in ca.named_children()] == ["W_query", "W_key", "W_value", "dropout"]
    assert list(ca.state_dict()) == ["mask", "W_query.weight", "W_key.weight", "W_value.weight"]
    assert [n for n, _ in ca.named_buffers()] == ["mask"] and "mask" not in dict(ca.named_parameters())

    wrapper = MultiHeadAttentionWrapper(3, 2, 6, 0.0, num_heads=3)
    assert isinstance(wrapper.heads, nn.ModuleList) and len(wrapper.heads) == 3
    assert all(isinstance(cabeza, CausalAttention) for cabeza in wrapper.heads)


def test_la_mascara_es_triangular_superior():
    ca = CausalAttention(3, 2, 6, 0.0)
    assert torch.equal(ca.mask, torch.triu(torch.ones(6, 6), diagonal=1))
    assert ca.mask[0, 1] == 1 and ca.mask[1, 0] == 0 and ca.mask.diagonal().sum() == 0


# --- Pesos de atención: máscara causal, renormalización y dropout ---------------------------------------------------

def _pesos_de_atencion(ca: CausalAttention, num_tokens: int) -> torch.Tensor:
    """Los pesos de atención de `ca` (creada con d_in = d_out = num_tokens), leídos de su propia salida.

    Con W_value = identidad y la entrada x = identidad, cada valor es un vector one-hot y el vector de contexto del
    token i es justo la fila i de los pesos de atención (después del dropout).
    """
    with torch.no_grad():
        ca.W_value.weight.copy_(torch.eye(num_tokens))
        return ca(torch.eye(num_tokens).unsqueeze(0))[0]  # (num_tokens, num_tokens)


def test_pesos_causales_ceros_encima_de_la_diagonal_y_filas_que_suman_1():
    torch.manual_seed(123)
    pesos = _pesos_de_atencion(CausalAttention(6, 6, 6, 0.0), 6)
    assert torch.all(torch.triu(pesos, diagonal=1) == 0)  # exactamente 0: exp(-inf) = 0
    assert torch.all(pesos[torch.ones(6, 6).tril().bool()] > 0)  # el pasado y el propio token, sí
    torch.testing.assert_close(pesos.sum(dim=-1), torch.ones(6))
    assert pesos[0, 0] == 1  # el primer token solo se ve a sí mismo


def test_enmascarar_tras_la_softmax_y_renormalizar_es_lo_mismo_que_menos_infinito():
    torch.manual_seed(123)
    ca = CausalAttention(6, 6, 6, 0.0)
    pesos = _pesos_de_atencion(ca, 6)
    with torch.no_grad():
        x = torch.eye(6)
        attn_scores = ca.W_query(x) @ ca.W_key(x).T
        # El camino largo: softmax sin máscara, ceros encima de la diagonal y dividir cada fila por su suma
        sin_mascara = torch.softmax(attn_scores / 6**0.5, dim=-1)
        masked_simple = sin_mascara * torch.tril(torch.ones(6, 6))
        masked_simple_norm = masked_simple / masked_simple.sum(dim=-1, keepdim=True)
    torch.testing.assert_close(pesos, masked_simple_norm)


def test_dropout_escala_por_1_entre_1_menos_p_al_entrenar():
    torch.manual_seed(123)
    dropout = nn.Dropout(0.5)
    salida = dropout(torch.ones(6, 6))
    assert set(salida.unique().tolist()) == {0.0, 2.0}  # lo que queda se multiplica por 1 / (1 - 0.5) = 2

    torch.manual_seed(123)
    ca = CausalAttention(6, 6, 6, 0.5)
    sin_dropout = _pesos_de_atencion(ca.eval(), 6)
    torch.manual_seed(123)
    con_dropout = _pesos_de_atencion(ca.train(), 6)
    conservados = con_dropout != 0
    assert 0 < int(conservados.sum()) < int((sin_dropout != 0).sum())  # anula algunos pesos, no todos
    torch.testing.assert_close(con_dropout[conservados], 2 * sin_dropout[conservados])


def test_dropout_no_hace_nada_en_modo_evaluacion():
    torch.manual_seed(123)
    con_dropout = CausalAttention(3, 2, 6, 0.5).eval()
    torch.manual_seed(123)
    sin_dropout = CausalAttention(3, 2, 6, 0.0)
    with torch.no_grad():
        torch.testing.assert_close(con_dropout(BATCH), sin_dropout(BATCH), rtol=0, atol=0)
        _assert_valores(con_dropout(BATCH)[0], ESPERADO_CAUSAL)


# --- Comparaciones entre implementaciones ---------------------------------------------------------------------------

def test_self_attention_v1_igual_que_v2_con_los_pesos_traspuestos():
    # El ejercicio 3.1 del libro: nn.Linear guarda la matriz traspuesta
    torch.manual_seed(789)
    sa_v2 = SelfAttention_v2(3, 2)
    sa_v1 = SelfAttention_v1(3, 2)
    with torch.no_grad():
        sa_v1.W_query.copy_(sa_v2.W_query.weight.T)
        sa_v1.W_key.copy_(sa_v2.W_key.weight.T)
        sa_v1.W_value.copy_(sa_v2.W_value.weight.T)
        torch.testing.assert_close(sa_v1(INPUTS), sa_v2(INPUTS))
        _assert_valores(sa_v1(INPUTS), ESPERADO_V2)


def _sdpa_causal(queries, keys, values):
    return F.scaled_dot_product_attention(queries, keys, values, dropout_p=0.0, is_causal=True)


def test_causal_attention_igual_que_scaled_dot_product_attention():
    torch.manual_seed(123)
    ca = CausalAttention(5, 4, 10, 0.0, qkv_bias=True)
    x = torch.randn(3, 10, 5)
    with torch.no_grad():
        esperado = _sdpa_causal(ca.W_query(x), ca.W_key(x), ca.W_value(x))
        torch.testing.assert_close(ca(x), esperado, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("num_heads,qkv_bias,num_tokens", [(1, False, 10), (2, True, 10), (4, False, 3)])
def test_mha_igual_que_scaled_dot_product_attention(num_heads, qkv_bias, num_tokens):
    torch.manual_seed(123)
    mha = MultiHeadAttention(5, 8, 10, 0.0, num_heads=num_heads, qkv_bias=qkv_bias)
    x = torch.randn(3, num_tokens, 5)
    b, head_dim = 3, 8 // num_heads

    def cabezas(t):  # (b, num_tokens, d_out) -> (b, num_heads, num_tokens, head_dim)
        return t.reshape(b, num_tokens, num_heads, head_dim).transpose(1, 2)

    with torch.no_grad():
        ctx = _sdpa_causal(cabezas(mha.W_query(x)), cabezas(mha.W_key(x)), cabezas(mha.W_value(x)))
        esperado = mha.out_proj(ctx.transpose(1, 2).reshape(b, num_tokens, 8))
        torch.testing.assert_close(mha(x), esperado, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("qkv_bias", [False, True])
def test_wrapper_igual_que_mha_con_los_mismos_pesos(qkv_bias):
    num_heads, head_dim, d_in = 3, 4, 5
    torch.manual_seed(123)
    wrapper = MultiHeadAttentionWrapper(d_in, head_dim, 8, 0.0, num_heads=num_heads, qkv_bias=qkv_bias)
    mha = MultiHeadAttention(d_in, num_heads * head_dim, 8, 0.0, num_heads=num_heads, qkv_bias=qkv_bias)
    with torch.no_grad():
        # La cabeza h del wrapper ocupa las filas h*head_dim ... (h+1)*head_dim de cada proyección de mha
        for h, cabeza in enumerate(wrapper.heads):
            filas = slice(h * head_dim, (h + 1) * head_dim)
            for nombre in ("W_query", "W_key", "W_value"):
                getattr(mha, nombre).weight[filas] = getattr(cabeza, nombre).weight
                if qkv_bias:
                    getattr(mha, nombre).bias[filas] = getattr(cabeza, nombre).bias
        mha.out_proj.weight.copy_(torch.eye(num_heads * head_dim))  # out_proj = identidad
        mha.out_proj.bias.zero_()
        x = torch.randn(2, 8, d_in)
        torch.testing.assert_close(mha(x), wrapper(x), rtol=1e-5, atol=1e-6)


# --- Errores claros ante entradas sin sentido -----------------------------------------------------------------------

@pytest.mark.parametrize("d_out,num_heads", [(2, 3), (768, 10), (4, 0)])
def test_mha_rechaza_cabezas_que_no_dividen_d_out(d_out, num_heads):
    with pytest.raises(ValueError, match=rf"divisible entre num_heads.*d_out={d_out} y num_heads={num_heads}"):
        MultiHeadAttention(3, d_out, 6, 0.0, num_heads=num_heads)


@pytest.mark.parametrize("capa,nombre", [
    (CausalAttention(3, 2, 6, 0.0), "CausalAttention"),
    (MultiHeadAttentionWrapper(3, 2, 6, 0.0, num_heads=2), "CausalAttention"),  # lo dice su primera cabeza
    (MultiHeadAttention(3, 2, 6, 0.0, num_heads=2), "MultiHeadAttention"),
])
def test_rechaza_secuencias_mas_largas_que_context_length(capa, nombre):
    with pytest.raises(ValueError, match=rf"La secuencia tiene 7 tokens, pero {nombre} admite como máximo "
                                         r"context_length=6.*últimos 6 tokens"):
        capa(torch.rand(2, 7, 3))
    assert capa(torch.rand(2, 6, 3)).shape[:2] == (2, 6)  # justo context_length sí vale


@pytest.mark.parametrize("clase,nombre", [(CausalAttention, "CausalAttention"), (MultiHeadAttention, "MultiHeadAttention")])
def test_rechaza_un_d_in_distinto(clase, nombre):
    capa = clase(3, 2, 6, 0.0, num_heads=2) if clase is MultiHeadAttention else clase(3, 2, 6, 0.0)
    with pytest.raises(ValueError, match=rf"{nombre} se creó con d_in=3, pero cada token de la entrada tiene 4 "
                                         r"elementos \(forma \(2, 6, 4\)\)\. Crea la capa con d_in=4"):
        capa(torch.rand(2, 6, 4))


@pytest.mark.parametrize("entrada,recibido", [
    (torch.rand(6, 3), r"\(6, 3\)"),
    (torch.rand(1, 2, 6, 3), r"\(1, 2, 6, 3\)"),
    ([[0.1, 0.2, 0.3]], "list"),
])
def test_rechaza_entradas_sin_dimension_de_lote(entrada, recibido):
    for capa in (CausalAttention(3, 2, 6, 0.0), MultiHeadAttention(3, 2, 6, 0.0, num_heads=2)):
        with pytest.raises(ValueError, match=rf"espera un tensor de forma \(b, num_tokens, d_in\) con d_in=3; "
                                             rf"ha recibido {recibido}\. .*unsqueeze\(0\)"):
            capa(entrada)


# --- La sección 4 sigue usando la misma clase, con los mismos pesos -------------------------------------------------

def test_la_seccion_4_reexporta_la_misma_clase():
    from seccion04_ImplementacionGPTGeneracionTexto import gptModel, transformerBlock
    from seccion04_ImplementacionGPTGeneracionTexto.multiHeadAttention import MultiHeadAttention as MHA4
    from seccion05.gptModelFast import MultiHeadAttentionFast

    assert MHA4 is MultiHeadAttention
    assert gptModel.MultiHeadAttention is MultiHeadAttention
    assert transformerBlock.MultiHeadAttention is MultiHeadAttention
    assert issubclass(MultiHeadAttentionFast, MultiHeadAttention)


# Medido con la clase de la sección 4 antes de moverla aquí (y con llms_from_scratch.ch03.MultiHeadAttention, que da
# lo mismo): torch.manual_seed(123); MultiHeadAttention(768, 768, 1024, 0.1, 12).
# (clave, forma, suma, primeros 2 elementos, último elemento)
HUELLA_MHA_124M = [
    ("mask", (1024, 1024), 523776.0, [0.0, 1.0], 0.0),
    ("W_query.weight", (768, 768), 15.449459, [-0.01471435, 0.00119528], 0.02154284529387951),
    ("W_key.weight", (768, 768), 1.470827, [0.01514266, -0.01598453], 0.0353870689868927),
    ("W_value.weight", (768, 768), 21.275539, [0.01434379, -0.03413127], -0.027146391570568085),
    ("out_proj.weight", (768, 768), 14.953156, [0.01482524, -0.01858213], 0.02995062619447708),
    ("out_proj.bias", (768,), 0.265098, [0.02829217, -0.03454253], 0.035579413175582886),
]


def test_mha_124m_mismos_pesos_iniciales_que_antes_de_moverla():
    torch.manual_seed(123)
    state_dict = MultiHeadAttention(768, 768, 1024, 0.1, 12).state_dict()
    assert list(state_dict) == [clave for clave, *_ in HUELLA_MHA_124M]
    for clave, forma, suma, primeros, ultimo in HUELLA_MHA_124M:
        tensor = state_dict[clave]
        assert tuple(tensor.shape) == forma, clave
        assert tensor.double().sum().item() == pytest.approx(suma, abs=1e-5), clave
        torch.testing.assert_close(tensor.flatten()[:2], torch.tensor(primeros), rtol=0, atol=1e-8)
        assert tensor.flatten()[-1].item() == ultimo, clave


def test_gptmodel_mismas_claves_y_pesos_iniciales_que_antes_de_moverla():
    from seccion04_ImplementacionGPTGeneracionTexto.gptModel import GPTModel

    torch.manual_seed(123)
    state_dict = GPTModel({**CFG_DIMINUTA, "vocab_size": 100}).state_dict()
    assert len(state_dict) == 33
    de_la_atencion = ["mask", "W_query.weight", "W_key.weight", "W_value.weight", "out_proj.weight", "out_proj.bias"]
    assert [k for k in state_dict if ".att." in k] == [f"trf_blocks.{i}.att.{k}" for i in (0, 1) for k in de_la_atencion]
    # Sumas medidas antes de mover MultiHeadAttention a la sección 3, con la misma semilla y configuración
    assert sum(t.double().sum().item() for t in state_dict.values()) == pytest.approx(367.674934, abs=1e-5)
    assert state_dict["trf_blocks.0.att.W_query.weight"].double().sum().item() == pytest.approx(-4.201317, abs=1e-6)
    assert state_dict["trf_blocks.1.att.out_proj.bias"].double().sum().item() == pytest.approx(-1.307970, abs=1e-6)


# --- Capas: la sección 3 no depende de las siguientes ---------------------------------------------------------------

def test_la_seccion_3_no_importa_las_secciones_4_y_5():
    prohibidos = ("seccion04_ImplementacionGPTGeneracionTexto", "seccion05")
    modulos = sorted((RAIZ / "seccion03_MecanismosAtencion").glob("*.py"))
    assert {p.name for p in modulos} >= {"causalAttention.py", "multiHeadAttention.py", "selfAttention.py"}
    malos = []
    for ruta in modulos:
        for nodo in ast.walk(ast.parse(ruta.read_text(encoding="utf-8"))):
            if isinstance(nodo, ast.Import):
                nombres = [alias.name for alias in nodo.names]
            elif isinstance(nodo, ast.ImportFrom):
                nombres = [nodo.module or ""]
            else:
                continue
            malos += [f"{Path(ruta).name}: {n}" for n in nombres if n.split(".")[0] in prohibidos]
    assert not malos, "La sección 3 no puede importar de las secciones 4 y 5:\n" + "\n".join(malos)
