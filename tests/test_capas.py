"""Pruebas de los bloques de la sección 4: LayerNorm, GELU, FeedForward, MultiHeadAttention y TransformerBlock.

Se comparan con implementaciones independientes de PyTorch (layer_norm, gelu, scaled_dot_product_attention,
nn.MultiheadAttention). Que el cuaderno que las enseña define lo mismo lo comprueba tests/test_cuadernos_y_modulos.py.
"""

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from seccion04_ImplementacionGPTGeneracionTexto.feedForward import FeedForward
from seccion04_ImplementacionGPTGeneracionTexto.gelu import GELU
from seccion04_ImplementacionGPTGeneracionTexto.gptConfig124M import GPT_CONFIG_124M
from seccion04_ImplementacionGPTGeneracionTexto.layerNorm import LayerNorm
from seccion04_ImplementacionGPTGeneracionTexto.multiHeadAttention import MultiHeadAttention
from seccion04_ImplementacionGPTGeneracionTexto.transformerBlock import TransformerBlock
from tests.configuraciones import CFG_DIMINUTA

CFG = CFG_DIMINUTA


# --- LayerNorm -----------------------------------------------------------------------------------------------------

def test_layernorm_deja_media_0_y_varianza_1():
    torch.manual_seed(123)
    x = 3.0 + 5.0 * torch.randn(2, 4, 32)
    y = LayerNorm(32)(x)
    assert y.shape == x.shape
    torch.testing.assert_close(y.mean(dim=-1), torch.zeros(2, 4), atol=1e-5, rtol=0)
    torch.testing.assert_close(y.var(dim=-1, unbiased=False), torch.ones(2, 4), atol=1e-4, rtol=0)


def test_layernorm_igual_que_f_layer_norm_con_escala_y_desplazamiento():
    torch.manual_seed(123)
    ln = LayerNorm(32)
    with torch.no_grad():
        ln.scale.copy_(torch.randn(32))
        ln.shift.copy_(torch.randn(32))
    x = torch.randn(2, 5, 32)
    esperado = F.layer_norm(x, (32,), weight=ln.scale, bias=ln.shift, eps=1e-5)
    torch.testing.assert_close(ln(x), esperado)


def test_layernorm_parametros_y_eps():
    ln = LayerNorm(8)
    assert ln.eps == 1e-5
    assert [nombre for nombre, _ in ln.named_parameters()] == ["scale", "shift"]
    assert torch.equal(ln.scale, torch.ones(8)) and torch.equal(ln.shift, torch.zeros(8))


# --- GELU ------------------------------------------------------------------------------------------------------------

def test_gelu_igual_que_f_gelu_tanh():
    torch.manual_seed(123)
    x = torch.cat([torch.linspace(-10, 10, 1001), 4 * torch.randn(1000)])
    torch.testing.assert_close(GELU()(x), F.gelu(x, approximate="tanh"))


def test_gelu_no_es_la_gelu_exacta():
    # La aproximación con tanh se separa de la GELU exacta (con erf) en ~1e-4: la prueba anterior sí distingue.
    x = torch.linspace(-3, 3, 601)
    assert (GELU()(x) - F.gelu(x)).abs().max() > 1e-5


def test_gelu_conserva_la_forma():
    assert GELU()(torch.zeros(2, 3, 4)).shape == (2, 3, 4)


# --- FeedForward ----------------------------------------------------------------------------------------------------

def test_feedforward_estructura_y_formas():
    ff = FeedForward(CFG)
    capas = list(ff.layers)
    assert isinstance(capas[0], nn.Linear) and (capas[0].in_features, capas[0].out_features) == (32, 128)
    assert isinstance(capas[1], GELU)
    assert isinstance(capas[2], nn.Linear) and (capas[2].in_features, capas[2].out_features) == (128, 32)
    x = torch.rand(2, 3, 32)
    assert ff.layers[0](x).shape == (2, 3, 128)
    assert ff(x).shape == (2, 3, 32)


def test_feedforward_124m_tiene_4722432_parametros():
    with torch.device("meta"):
        ff = FeedForward(GPT_CONFIG_124M)
    assert sum(p.numel() for p in ff.parameters()) == 4_722_432


# --- MultiHeadAttention ---------------------------------------------------------------------------------------------

def _mha(d_in=32, d_out=32, context_length=16, num_heads=4, qkv_bias=False):
    torch.manual_seed(123)
    mha = MultiHeadAttention(d_in, d_out, context_length=context_length, dropout=0.0, num_heads=num_heads,
                             qkv_bias=qkv_bias)
    return mha.eval()


@pytest.mark.parametrize("num_heads,qkv_bias,num_tokens", [(1, False, 16), (4, False, 16), (4, True, 7), (8, False, 1)])
def test_mha_igual_que_scaled_dot_product_attention(num_heads, qkv_bias, num_tokens):
    mha = _mha(num_heads=num_heads, qkv_bias=qkv_bias)
    x = torch.randn(3, num_tokens, 32)
    b, n, head_dim = 3, num_tokens, 32 // num_heads

    def cabezas(t):  # (b, n, d_out) -> (b, num_heads, n, head_dim)
        return t.reshape(b, n, num_heads, head_dim).permute(0, 2, 1, 3)

    with torch.no_grad():
        ctx = F.scaled_dot_product_attention(cabezas(mha.W_query(x)), cabezas(mha.W_key(x)), cabezas(mha.W_value(x)),
                                             dropout_p=0.0, is_causal=True)
        esperado = mha.out_proj(ctx.permute(0, 2, 1, 3).reshape(b, n, 32))
        obtenido = mha(x)
    assert obtenido.shape == (3, num_tokens, 32)
    torch.testing.assert_close(obtenido, esperado, rtol=1e-5, atol=1e-6)


def test_mha_igual_que_nn_multiheadattention():
    # nn.MultiheadAttention parte las cabezas por su cuenta: comprueba también el view/transpose del módulo.
    mha = _mha(num_heads=4)
    ref = nn.MultiheadAttention(32, 4, bias=True, batch_first=True).eval()
    with torch.no_grad():
        ref.in_proj_weight.copy_(torch.cat([mha.W_query.weight, mha.W_key.weight, mha.W_value.weight]))
        ref.in_proj_bias.zero_()
        ref.out_proj.weight.copy_(mha.out_proj.weight)
        ref.out_proj.bias.copy_(mha.out_proj.bias)
        x = torch.randn(2, 10, 32)
        mascara = torch.triu(torch.ones(10, 10, dtype=torch.bool), diagonal=1)
        esperado, _ = ref(x, x, x, attn_mask=mascara, need_weights=False)
        torch.testing.assert_close(mha(x), esperado, rtol=1e-5, atol=1e-6)


def test_mha_es_causal():
    mha = _mha()
    torch.manual_seed(0)
    x = torch.randn(1, 10, 32)
    x_cambiado = x.clone()
    x_cambiado[:, 6:] = torch.randn(1, 4, 32)  # cambia el futuro a partir del token 6
    with torch.no_grad():
        y, y_cambiado = mha(x), mha(x_cambiado)
    torch.testing.assert_close(y[:, :6], y_cambiado[:, :6])
    assert not torch.allclose(y[:, 6:], y_cambiado[:, 6:])


def test_mha_atributos_y_orden():
    mha = _mha(num_heads=4)
    assert [nombre for nombre, _ in mha.named_children()] == ["W_query", "W_key", "W_value", "out_proj", "dropout"]
    assert mha.head_dim == 8 and mha.num_heads == 4 and mha.d_out == 32
    assert mha.W_query.bias is None and mha.out_proj.bias is not None
    assert torch.equal(mha.mask, torch.triu(torch.ones(16, 16), diagonal=1))


@pytest.mark.parametrize("d_out,num_heads", [(32, 3), (768, 10), (32, 0)])
def test_mha_rechaza_cabezas_que_no_dividen_d_out(d_out, num_heads):
    with pytest.raises(ValueError, match=rf"divisible entre num_heads.*d_out={d_out} y num_heads={num_heads}"):
        MultiHeadAttention(d_out, d_out, context_length=4, dropout=0.0, num_heads=num_heads)


# --- TransformerBlock -----------------------------------------------------------------------------------------------

def test_bloque_conserva_la_forma_y_el_orden_de_sus_capas():
    torch.manual_seed(123)
    bloque = TransformerBlock(CFG)
    assert [nombre for nombre, _ in bloque.named_children()] == ["att", "ff", "norm1", "norm2", "drop_shortcut"]
    assert bloque(torch.rand(2, 5, 32)).shape == (2, 5, 32)


def test_bloque_es_pre_norm_con_dos_atajos():
    torch.manual_seed(123)
    bloque = TransformerBlock(CFG).eval()
    with torch.no_grad():
        for ln in (bloque.norm1, bloque.norm2):  # escalas no triviales para que el orden importe
            ln.scale.copy_(torch.rand(32) + 0.5)
            ln.shift.copy_(torch.randn(32))
        x = torch.randn(2, 6, 32)
        h = x + bloque.att(bloque.norm1(x))
        esperado = h + bloque.ff(bloque.norm2(h))
        torch.testing.assert_close(bloque(x), esperado)


def test_bloque_124m_tiene_7085568_parametros():
    with torch.device("meta"):
        bloque = TransformerBlock(GPT_CONFIG_124M)
    assert sum(p.numel() for p in bloque.parameters()) == 7_085_568
