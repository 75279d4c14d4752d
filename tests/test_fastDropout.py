"""Pruebas de seccion05/fastDropout.py: la misma ley que F.dropout, con otras máscaras."""

import pytest
import torch

from seccion05.fastDropout import FastDropout, fast_dropout


def test_fast_dropout_anula_una_fraccion_p_y_escala_el_resto():
    torch.manual_seed(123)
    x = torch.ones(1_000_000)
    y = fast_dropout(x, 0.1)
    conservados = (y != 0).float().mean().item()
    # Binomial(10⁶, 0,9): desviación típica 3e-4; 0,002 son más de 6 desviaciones
    assert abs(conservados - 0.9) < 0.002
    torch.testing.assert_close(y.unique(), torch.tensor([0.0, 1 / 0.9]))  # solo 0 o 1/(1-p)
    assert abs(y.mean().item() - 1.0) < 0.003  # el valor esperado no cambia



@pytest.mark.parametrize("forma", [(3, 5, 7), (1,), (2, 12, 16, 16)])  # también con un número impar de elementos
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_fast_dropout_conserva_forma_y_dtype(forma, dtype):
    torch.manual_seed(123)
    x = torch.randn(forma).to(dtype)
    y = fast_dropout(x, 0.5)
    assert y.shape == x.shape and y.dtype == dtype
    conservados = y != 0
    torch.testing.assert_close(y[conservados], (x[conservados].float() * 2).to(dtype))



def test_fast_dropout_reproducible_con_la_semilla():
    x = torch.ones(1000)
    torch.manual_seed(5)
    a = fast_dropout(x, 0.3)
    torch.manual_seed(5)
    b = fast_dropout(x, 0.3)
    c = fast_dropout(x, 0.3)  # el generador ha avanzado: otra máscara
    assert torch.equal(a, b) and not torch.equal(b, c)



def test_fast_dropout_sin_efecto_en_evaluacion_o_con_p_cero():
    x = torch.randn(4, 8)
    assert fast_dropout(x, 0.1, training=False) is x
    assert fast_dropout(x, 0.0) is x
    capa = FastDropout(0.1).eval()
    assert capa(x) is x



def test_fast_dropout_con_p_uno_lo_anula_todo():
    assert torch.equal(fast_dropout(torch.ones(10), 1.0), torch.zeros(10))



@pytest.mark.parametrize("p", [1 - 1e-10, 1 - 2**-33])
def test_fast_dropout_con_p_casi_uno_lo_anula_todo(p):
    """round(p · 2³²) = 2³²: el umbral no cabe en 32 bits; se anula todo, como con p = 1 (no se multiplica por 1e10)."""
    torch.manual_seed(123)
    y = fast_dropout(torch.ones(100_000), p)
    assert (y == 0).float().mean().item() == 1.0  # fracción anulada
    assert y.mean().item() == 0.0



@pytest.mark.parametrize("p", [2**-33, 1e-12])
def test_fast_dropout_con_p_casi_cero_no_anula_nada(p):
    """round(p · 2³²) = 0: no se anula nada y la escala es 1 / (1 − 0) = 1."""
    torch.manual_seed(123)
    x = torch.randn(100_000)
    y = fast_dropout(x, p)
    assert (y == 0).float().mean().item() == 0.0
    assert torch.equal(y, x) and y.mean().item() == x.mean().item()



def test_fast_dropout_escala_con_la_probabilidad_aplicada():
    """La escala es 1 / (1 − round(p · 2³²) / 2³²), la de la probabilidad que de verdad se aplica: así el valor
    esperado sigue siendo x. Con p = 1 − 2⁻¹⁴ + 0,45 · 2⁻³², la aplicada es 1 − 2⁻¹⁴ y la escala, 2¹⁴ justos
    (con 1 / (1 − p) sería 16 384,03)."""
    p = 1 - 2**-14 + 0.45 * 2**-32
    torch.manual_seed(123)
    y = fast_dropout(torch.ones(2**20), p)
    conservados = y[y != 0]
    assert 30 < conservados.numel() < 110  # Poisson de media 2²⁰ · 2⁻¹⁴ = 64
    assert torch.equal(conservados.unique(), torch.tensor([2.0**14]))
    assert abs(y.mean().item() - 1.0) < 0.5  # media 1, con desviación típica 1/8



def test_fast_dropout_gradiente_es_la_mascara():
    torch.manual_seed(123)
    x = torch.ones(100, requires_grad=True)
    y = fast_dropout(x, 0.2)
    y.sum().backward()
    torch.testing.assert_close(x.grad, y.detach())  # con x = 1, la salida es la propia máscara escalada



@pytest.mark.parametrize("p", [-0.1, 1.5, True, "0.1", None, float("nan")])
def test_fast_dropout_p_no_valida(p):
    with pytest.raises(ValueError, match=r"p debe ser un número finito entre 0 y 1; has pasado .* \("):
        fast_dropout(torch.ones(3), p)

