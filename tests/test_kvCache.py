"""Pruebas de seccion05/kvCache.py (la caché dentro del modelo se prueba en test_gptModelFast.py)."""

import pytest
import torch

from seccion05.kvCache import KVCache
from tests.caminoRapido import CFG, modelos_diminutos


@pytest.fixture
def modelos():
    return modelos_diminutos()


def test_forma_de_la_cache(modelos):
    _, rapido = modelos
    cache = KVCache(CFG["n_layers"], max_len=12)
    with torch.no_grad():
        rapido(torch.zeros(3, 4, dtype=torch.long), cache=cache)
    assert cache.seq_len == 4
    assert cache.keys[0].shape == (3, CFG["n_heads"], 12, CFG["emb_dim"] // CFG["n_heads"])
    cache.reset()
    assert cache.seq_len == 0



def test_max_len_no_valido():
    with pytest.raises(ValueError, match="max_len debe ser un entero mayor o igual que 1; has pasado 0"):
        KVCache(2, max_len=0)



def test_n_layers_no_valido():
    with pytest.raises(ValueError, match=r"n_layers debe ser un entero mayor o igual que 1; has pasado True \(bool\)"):
        KVCache(True, max_len=4)


def test_update_guarda_tras_lo_anterior_y_devuelve_todo():
    cache = KVCache(n_layers=1, max_len=8)
    k1, v1 = torch.ones(2, 4, 5, 16), torch.full((2, 4, 5, 16), 2.0)
    claves, valores = cache.update(0, k1, v1)
    assert claves.shape == valores.shape == (2, 4, 5, 16)
    cache.seq_len = 5  # dentro del modelo lo avanza GPTModelFast.forward cuando han pasado todas las capas
    claves, valores = cache.update(0, torch.zeros(2, 4, 1, 16), torch.zeros(2, 4, 1, 16))
    assert claves.shape == (2, 4, 6, 16)
    assert torch.equal(claves[:, :, :5], k1) and torch.equal(valores[:, :, :5], v1)
    assert claves[:, :, 5].abs().sum() == 0 and cache.keys[0].shape == (2, 4, 8, 16)
