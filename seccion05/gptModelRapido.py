"""Caminos rápidos y opcionales para el GPT del curso: caché KV al generar y piezas fusionadas de PyTorch al entrenar.

El código didáctico de la sección 4 no cambia. `GPTModelRapido` acepta el mismo diccionario de configuración que
`GPTModel` y tiene exactamente los mismos parámetros y búferes (el mismo `state_dict`), así que cambias de camino con
una línea y los pesos guardados sirven para los dos:

    model = GPTModelRapido(cfg)                 # en lugar de GPTModel(cfg)
    model.load_state_dict(gpt.state_dict())     # y al revés: gpt.load_state_dict(model.state_dict())

Qué cambia por dentro (cada pieza da el mismo resultado que la didáctica, salvo redondeo):
- atención con `F.scaled_dot_product_attention` (un kernel fusionado) en lugar de softmax(QKᵀ/√d)·V a mano;
- `F.layer_norm` y `F.gelu(approximate="tanh")` nativas en lugar de las fórmulas escritas con operaciones sueltas;
- una caché KV opcional (`KVCache`) para generar sin recalcular las claves y los valores de los tokens anteriores;
- `precision="bf16"` o `"auto"`: autocast a bfloat16 donde se puede ejecutar y el hardware lo acelera (los pesos
  siguen en fp32; `bf16_runs` lo prueba de verdad);
- `dropout="rapido"` (por defecto): en CPU, las máscaras de dropout se sortean con enteros aleatorios de 32 bits, más
  baratos que los de `F.dropout`, y la atención con dropout se calcula con esas máscaras (ver `dropout_rapido`);
- `adamw_rapido`: AdamW en su variante fusionada (o `foreach` si no la hay);
- `reutilizar_memoria()`: en Linux, el proceso reutiliza la memoria liberada en lugar de devolverla al sistema;
- al generar con caché en CPU, `generate_cached` reparte entre los hilos cada producto matriz-vector de un token
  (`RepartoGEMV` y `LinearRapida`): PyTorch los hace en un solo hilo.

Se explica en: seccion05/6_rendimiento.ipynb
"""

from __future__ import annotations

import contextlib
import ctypes
import sys
from concurrent.futures import ThreadPoolExecutor

import torch
import torch.nn as nn
import torch.nn.functional as F

from seccion02_TrabajarDatosTexto.checkArgs import check_int, check_number
from seccion04_ImplementacionGPTGeneracionTexto.checkGenerationArgs import check_generation_args
from seccion04_ImplementacionGPTGeneracionTexto.feedForward import FeedForward
from seccion04_ImplementacionGPTGeneracionTexto.gptModel import GPTModel, _comprobar_entrada, check_config
from seccion04_ImplementacionGPTGeneracionTexto.layerNorm import LayerNorm
from seccion04_ImplementacionGPTGeneracionTexto.multiHeadAttention import MultiHeadAttention

PRECISIONES = ("fp32", "bf16", "auto")
DROPOUTS = ("rapido", "torch")


def _comprobar_p(p) -> float:
    """La probabilidad de dropout p, comprobada: un número entre 0 y 1 (devuelto como float)."""
    return check_number("p", p, minimum=0, maximum=1, hint="Es la probabilidad de anular cada elemento (dropout).")


def dropout_rapido(x: torch.Tensor, p: float, training: bool = True) -> torch.Tensor:
    """El mismo dropout que `F.dropout(x, p, training)`, con máscaras más baratas de sortear en CPU.

    Cada elemento se anula con probabilidad `p` y los que quedan se multiplican por 1 / (1 − p), así que el valor
    esperado no cambia. En modo evaluación (`training=False`) o con p = 0 devuelve `x` tal cual.

    En CPU, `F.dropout` sortea un número aleatorio por elemento con `bernoulli_`, que es lento. Aquí se sortean
    enteros de 64 bits y cada uno se parte en dos de 32 (la mitad de sorteos); un elemento se conserva si su entero
    de 32 bits queda por encima de un umbral. La probabilidad de anularlo es round(p · 2³²) / 2³², que se aparta de
    p menos de 1,2e-10, y los que quedan se multiplican por 1 / (1 − esa probabilidad), para que el valor esperado
    siga siendo x. Si p está tan cerca de 1 que round(p · 2³²) = 2³², se anula todo, como con p = 1; si está tan
    cerca de 0 que round(p · 2³²) = 0, no se anula nada. Las máscaras son otras que las de `F.dropout` (otro
    sorteo con la misma ley), así que el entrenamiento no da las mismas cifras que con `F.dropout`, solo las mismas
    en promedio. En GPU y MPS se usa `F.dropout`, que allí ya es rápido.

    Entrada y salida: un tensor de cualquier forma. Se explica en: seccion05/6_rendimiento.ipynb
    """
    p = _comprobar_p(p)
    if not training or p == 0.0:
        return x
    if p == 1.0 or x.device.type != "cpu":
        return F.dropout(x, p, training=True)
    anulados = round(p * 2**32)  # de los 2³² enteros de 32 bits, cuántos anulan su elemento
    if anulados == 2**32:  # p a menos de 2⁻³³ de 1: el umbral no cabría en int32 (daría la vuelta)
        return F.dropout(x, 1.0, training=True)
    n = x.numel()
    # (n + 1) // 2 enteros uniformes en todo el rango de int64 = n enteros uniformes de 32 bits
    aleatorios = torch.empty((n + 1) // 2, dtype=torch.int64).random_(-(2**63), None).view(torch.int32)[:n]
    umbral = -(2**31) + anulados  # por debajo del umbral caen `anulados` de los 2³² enteros posibles
    p_aplicada = anulados / 2**32  # la probabilidad que de verdad se aplica (a menos de 1,2e-10 de p)
    mascara = (aleatorios >= umbral).view(x.shape).to(x.dtype).mul_(1.0 / (1.0 - p_aplicada))  # 0 o 1/(1-p)
    return x * mascara


class DropoutRapido(nn.Dropout):
    """`nn.Dropout` con las máscaras de `dropout_rapido` (el mismo `p`; no tiene parámetros)."""

    def forward(self, x):
        return dropout_rapido(x, self.p, self.training)


class KVCache:
    """Claves y valores ya calculados de cada capa, para no recalcularlos en cada token generado.

    Cada capa guarda dos tensores reservados de antemano, de forma (b, n_heads, max_len, head_dim); `seq_len` dice
    cuántas posiciones están llenas. Se reservan en la primera llamada a `update` (con el dtype y el dispositivo
    de las claves que llegan), así que no hace falta decirle el tamaño del lote.
    """

    def __init__(self, n_layers: int, max_len: int):
        if isinstance(max_len, bool) or not isinstance(max_len, int) or max_len < 1:
            raise ValueError(f"max_len debe ser un entero mayor que 0; has pasado {max_len!r}.")
        self.max_len = max_len
        self.keys = [None] * n_layers
        self.values = [None] * n_layers
        self.seq_len = 0  # posiciones ya guardadas (las mismas en todas las capas)

    def update(self, layer_idx: int, keys: torch.Tensor, values: torch.Tensor):
        """Guarda las claves y valores nuevos (b, n_heads, n, head_dim) de la capa `layer_idx` tras los ya guardados
        y devuelve todos los de esa capa: (b, n_heads, seq_len + n, head_dim)."""
        inicio, n = self.seq_len, keys.shape[2]
        if self.keys[layer_idx] is None:
            b, h, _, d = keys.shape
            self.keys[layer_idx] = keys.new_empty(b, h, self.max_len, d)
            self.values[layer_idx] = values.new_empty(b, h, self.max_len, d)
        self.keys[layer_idx][:, :, inicio : inicio + n] = keys
        self.values[layer_idx][:, :, inicio : inicio + n] = values
        return self.keys[layer_idx][:, :, : inicio + n], self.values[layer_idx][:, :, : inicio + n]

    def reset(self) -> None:
        """Vacía la caché (conserva la memoria reservada)."""
        self.seq_len = 0


class MultiHeadAttentionRapida(MultiHeadAttention):
    """La misma atención causal multicabeza (mismos pesos y máscara) con el kernel fusionado de PyTorch y caché KV.

    Entrada: (b, num_tokens, d_in). Salida: (b, num_tokens, d_out). Con `cache`, las claves y valores de los
    `num_tokens` tokens nuevos se añaden a los guardados y cada consulta atiende a todos los anteriores.

    Con `dropout_rapido=True`, su dropout es un `DropoutRapido`, y entrenando en CPU (sin caché) usa el `forward` de
    `MultiHeadAttention` tal cual (sección 3), con esas máscaras: en CPU, `scaled_dot_product_attention` con dropout no tiene kernel
    fusionado y cae en esas mismas operaciones, pero con el dropout lento de `F.dropout`.
    """

    def __init__(self, *args, dropout_rapido: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.dropout_rapido = dropout_rapido
        if dropout_rapido:
            self.dropout = DropoutRapido(self.dropout.p)  # sin parámetros: el state_dict no cambia

    def forward(self, x, cache: KVCache | None = None, layer_idx: int = 0):
        if cache is None and self.training and self.dropout.p > 0.0 and self.dropout_rapido and x.device.type == "cpu":
            return super().forward(x)  # entrenando en CPU: la atención de `MultiHeadAttention`, con las máscaras rápidas

        b, num_tokens, _ = x.shape

        # (b, num_tokens, d_out) -> (b, num_heads, num_tokens, head_dim)
        queries = self.W_query(x).view(b, num_tokens, self.num_heads, self.head_dim).transpose(1, 2)
        keys = self.W_key(x).view(b, num_tokens, self.num_heads, self.head_dim).transpose(1, 2)
        values = self.W_value(x).view(b, num_tokens, self.num_heads, self.head_dim).transpose(1, 2)

        dropout_p = self.dropout.p if self.training else 0.0
        inicio = 0 if cache is None else cache.seq_len
        if cache is not None:
            keys, values = cache.update(layer_idx, keys, values)  # (b, num_heads, inicio + num_tokens, head_dim)

        if inicio == 0:
            # Sin nada guardado antes: la máscara causal de siempre
            context_vec = F.scaled_dot_product_attention(queries, keys, values, dropout_p=dropout_p, is_causal=True)
        elif num_tokens == 1:
            # Un solo token nuevo: puede ver todo lo guardado, no hace falta máscara
            context_vec = F.scaled_dot_product_attention(queries, keys, values, dropout_p=dropout_p)
        else:
            # Varios tokens nuevos tras los guardados: filas inicio..inicio+num_tokens de la máscara causal
            visible = ~self.mask[inicio : inicio + num_tokens, : inicio + num_tokens].bool()  # True = se puede ver
            context_vec = F.scaled_dot_product_attention(queries, keys, values, attn_mask=visible, dropout_p=dropout_p)

        # (b, num_heads, num_tokens, head_dim) -> (b, num_tokens, d_out)
        context_vec = context_vec.transpose(1, 2).contiguous().view(b, num_tokens, self.d_out)
        return self.out_proj(context_vec)


# Pesos con menos elementos no compensan el coste de repartir (768 × 768 = 589 824 sí; en el GPT de 124M, todos)
MIN_ELEMENTOS_REPARTO = 2**18


class RepartoGEMV:
    """Reparte entre varios hilos los productos matriz-vector de un paso de generación con caché, en CPU.

    Con la caché, cada paso procesa un solo token: cada capa lineal calcula y = x·Wᵀ con una sola fila x, un
    producto matriz-vector (GEMV) cuyo límite es leer W de la memoria. PyTorch lo hace en un solo hilo, y un hilo
    solo no aprovecha todo el ancho de banda de la memoria. Dentro de `with reparto:`, cada `LinearRapida` parte W
    por filas en `hilos` trozos y calcula cada trozo en un hilo distinto. Mientras tanto, PyTorch usa un hilo para
    sus propias operaciones: si no, sus hilos de OpenMP se quedarían esperando activos y ocuparían los núcleos.

    Solo reparte en fp32 y sin gradientes (al generar): el autocast y el modo sin gradientes son de cada hilo.
    Lo usa `generate_cached`; llama a `cerrar()` al terminar. Se explica en: seccion05/6_rendimiento.ipynb
    """

    actual: RepartoGEMV | None = None  # el reparto activo (uno cada vez en el proceso)

    def __init__(self, hilos: int):
        hilos = check_int("hilos", hilos, minimum=1)
        self.hilos = hilos
        self._pool = ThreadPoolExecutor(hilos - 1, thread_name_prefix="gemv") if hilos > 1 else None

    def __enter__(self) -> RepartoGEMV:
        if self._pool is not None:  # con un solo hilo no hay nada que repartir: no toca los hilos de PyTorch
            self._hilos_torch = torch.get_num_threads()
            torch.set_num_threads(1)
            RepartoGEMV.actual = self
        return self

    def __exit__(self, *exc) -> None:
        if self._pool is not None:
            RepartoGEMV.actual = None
            torch.set_num_threads(self._hilos_torch)

    def cerrar(self) -> None:
        """Termina los hilos auxiliares."""
        if self._pool is not None:
            self._pool.shutdown()

    close = cerrar  # el nombre que busca contextlib.closing

    def puede(self, x: torch.Tensor, weight: torch.Tensor) -> bool:
        """True si conviene repartir x·Wᵀ: una sola fila, en CPU, fp32, sin gradientes ni autocast, y W grande."""
        return (
            self._pool is not None
            and x.numel() == x.shape[-1]
            and x.device.type == "cpu"
            and x.dtype == weight.dtype == torch.float32
            and not torch.is_grad_enabled()
            and not torch.is_autocast_enabled("cpu")
            and weight.numel() >= MIN_ELEMENTOS_REPARTO
        )

    def linear(self, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
        """F.linear(x, weight, bias) con las filas de `weight` repartidas entre los hilos: (..., in) -> (..., out).

        El hilo que llama se queda con un trozo 1,5 veces mayor que los demás: los auxiliares empiezan un poco más
        tarde, porque antes tienen que conseguir el GIL de Python (medido con el GPT de 124M y 2 hilos: 45 tokens/s
        así, 43 con trozos iguales).
        """
        filas = weight.shape[0]
        por_hilo = int(filas / (self.hilos + 0.5))  # filas de cada hilo auxiliar
        tamanos = [filas - por_hilo * (self.hilos - 1)] + [por_hilo] * (self.hilos - 1)
        pesos = weight.split(tamanos)  # vistas, sin copiar
        sesgos = bias.split(tamanos) if bias is not None else [None] * self.hilos
        futuros = [
            self._pool.submit(_linear_sin_gradientes, x, w, b) for w, b in zip(pesos[1:], sesgos[1:], strict=True)
        ]
        primero = F.linear(x, pesos[0], sesgos[0])  # el primer trozo, en este hilo
        return torch.cat([primero, *(f.result() for f in futuros)], dim=-1)


def _linear_sin_gradientes(x, weight, bias):
    with torch.no_grad():  # el modo sin gradientes es de cada hilo: el auxiliar no lo hereda
        return F.linear(x, weight, bias)


class LinearRapida(nn.Linear):
    """`nn.Linear` (mismos parámetros) que, dentro de un `RepartoGEMV`, reparte entre hilos el producto de una fila."""

    def forward(self, x):
        reparto = RepartoGEMV.actual
        if reparto is not None and reparto.puede(x, self.weight):
            return reparto.linear(x, self.weight, self.bias)
        return F.linear(x, self.weight, self.bias)


class LayerNormRapida(LayerNorm):
    """La misma normalización de capa (mismos `scale` y `shift`, eps=1e-5, varianza sesgada) con `F.layer_norm`."""

    def forward(self, x):
        return F.layer_norm(x, (x.shape[-1],), self.scale, self.shift, self.eps)


class FeedForwardRapida(FeedForward):
    """La misma red feed-forward con la GELU nativa de PyTorch (aproximación tanh, la de GPT-2)."""

    def __init__(self, cfg: dict):
        super().__init__(cfg)
        self.layers[1] = nn.GELU(approximate="tanh")  # sin parámetros: el state_dict no cambia


class TransformerBlockRapido(nn.Module):
    """El bloque transformer de la sección 4 con las piezas rápidas. Entrada y salida: (b, num_tokens, emb_dim).

    `dropout`: "rapido" (máscaras de `dropout_rapido`) o "torch" (`nn.Dropout`), como en `GPTModelRapido`.
    """

    def __init__(self, cfg: dict, dropout: str = "rapido"):
        super().__init__()
        self.att = MultiHeadAttentionRapida(
            d_in=cfg["emb_dim"],
            d_out=cfg["emb_dim"],
            context_length=cfg["context_length"],
            num_heads=cfg["n_heads"],
            dropout=cfg["drop_rate"],
            qkv_bias=cfg["qkv_bias"],
            dropout_rapido=dropout == "rapido",
        )
        self.ff = FeedForwardRapida(cfg)
        self.norm1 = LayerNormRapida(cfg["emb_dim"])
        self.norm2 = LayerNormRapida(cfg["emb_dim"])
        self.drop_shortcut = (DropoutRapido if dropout == "rapido" else nn.Dropout)(cfg["drop_rate"])

    def forward(self, x, cache: KVCache | None = None, layer_idx: int = 0):
        x = x + self.drop_shortcut(self.att(self.norm1(x), cache, layer_idx))  # atajo alrededor de la atención
        x = x + self.drop_shortcut(self.ff(self.norm2(x)))  # atajo alrededor de la feed-forward
        return x


class GPTModelRapido(nn.Module):
    """`GPTModel` con piezas fusionadas, caché KV opcional y autocast opcional; mismo `state_dict` que `GPTModel`.

    - `cfg`: el mismo diccionario que `GPTModel` (p. ej. `GPT_CONFIG_124M`).
    - `precision`: "fp32" (por defecto), "bf16" (autocast a bfloat16; los pesos y los gradientes siguen en fp32; si
      en el dispositivo no se puede ejecutar, el primer `forward` da un error que lo explica) o "auto" (bf16 donde
      se puede ejecutar y se acelera: CPU con instrucciones bf16 y GPU CUDA que lo admitan; fp32 en el resto).
    - `dropout`: "rapido" (por defecto; máscaras de `dropout_rapido`, más baratas en CPU) o "torch" (`nn.Dropout`,
      las mismas máscaras que `GPTModel` con la misma semilla). Solo importa al entrenar, con drop_rate > 0.

    Entrada: ids (b, num_tokens). Salida: logits (b, num_tokens, vocab_size), siempre en float32.
    Con `cache` (una `KVCache`), los tokens de entrada continúan a los ya guardados: sus posiciones empiezan en
    `cache.seq_len`.
    """

    def __init__(self, cfg: dict, precision: str = "fp32", dropout: str = "rapido"):
        check_config(cfg)  # las mismas comprobaciones que GPTModel, con los mismos errores
        super().__init__()
        if precision not in PRECISIONES:
            raise ValueError(
                f"precision debe ser 'fp32', 'bf16' o 'auto'; has pasado {precision!r}. "
                "Usa 'auto' para que el modelo elija bf16 solo donde el hardware lo acelera."
            )
        if dropout not in DROPOUTS:
            raise ValueError(
                f"dropout debe ser 'rapido' o 'torch'; has pasado {dropout!r}. Usa 'torch' si quieres las mismas "
                "máscaras de dropout que GPTModel."
            )
        self.cfg = dict(cfg)
        self.precision = precision
        self.dropout = dropout

        self.tok_emb = nn.Embedding(cfg["vocab_size"], cfg["emb_dim"])
        self.pos_emb = nn.Embedding(cfg["context_length"], cfg["emb_dim"])
        self.drop_emb = (DropoutRapido if dropout == "rapido" else nn.Dropout)(cfg["drop_rate"])
        self.trf_blocks = nn.Sequential(*[TransformerBlockRapido(cfg, dropout) for _ in range(cfg["n_layers"])])
        self.final_norm = LayerNormRapida(cfg["emb_dim"])
        self.out_head = nn.Linear(cfg["emb_dim"], cfg["vocab_size"], bias=False)
        for capa in self.modules():
            if type(capa) is nn.Linear:  # las de la atención, la feed-forward y la cabeza de salida
                capa.__class__ = LinearRapida  # el mismo objeto con otro forward: mismos parámetros y state_dict

    @classmethod
    def desde(cls, model: GPTModel, precision: str = "fp32", dropout: str = "rapido") -> GPTModelRapido:
        """Crea un `GPTModelRapido` con la configuración y los pesos de un `GPTModel` (en su dispositivo y modo)."""
        att = model.trf_blocks[0].att
        cfg = {
            "vocab_size": model.tok_emb.num_embeddings,
            "context_length": model.pos_emb.num_embeddings,
            "emb_dim": model.tok_emb.embedding_dim,
            "n_heads": att.num_heads,
            "n_layers": len(model.trf_blocks),
            "drop_rate": model.drop_emb.p,
            "qkv_bias": att.W_query.bias is not None,
        }
        peso = model.out_head.weight
        rapido = cls(cfg, precision=precision, dropout=dropout).to(device=peso.device, dtype=peso.dtype)
        rapido.load_state_dict(model.state_dict())
        return rapido.train(model.training)

    def dtype_autocast(self, device: torch.device) -> torch.dtype | None:
        """El dtype del autocast en `device` según `precision`, o None si se calcula en fp32.

        Con precision="bf16", lanza un RuntimeError si en `device` el cálculo en bfloat16 no se puede ejecutar
        (ver `bf16_runs`)."""
        if self.precision == "fp32":
            return None
        if self.precision == "auto":
            return torch.bfloat16 if bf16_acelerado(device) else None
        fallo = _fallo_bf16(device)  # "bf16": funciona o se rechaza con el motivo
        if fallo is not None:
            donde = "en esta CPU" if torch.device(device).type == "cpu" else f"en el dispositivo {device}"
            raise RuntimeError(
                f'Has pedido precision="bf16", pero {donde} el cálculo en bfloat16 no se puede ejecutar: PyTorch '
                f'responde «{fallo}» al probarlo; usa precision="auto" o "fp32" (con "auto", el modelo calcula en '
                "fp32 donde bf16 no funciona)."
            )
        return torch.bfloat16

    def forward(self, in_idx, cache: KVCache | None = None):
        if not torch.compiler.is_compiling():  # la comprobación lee valores del tensor: cortaría el grafo compilado
            _comprobar_entrada(in_idx, self.tok_emb.num_embeddings, self.pos_emb.num_embeddings)
        num_tokens = in_idx.shape[1]
        inicio = 0 if cache is None else cache.seq_len
        if cache is not None and inicio + num_tokens > min(cache.max_len, self.pos_emb.num_embeddings):
            raise ValueError(
                f"La caché KV ya guarda {inicio} posiciones y le llegan {num_tokens} más: pasaría de "
                f"{min(cache.max_len, self.pos_emb.num_embeddings)} (el mínimo de max_len={cache.max_len} y "
                f"context_length={self.pos_emb.num_embeddings}). Vacía la caché con cache.reset() y vuelve a "
                "pasar los últimos tokens."
            )

        dtype = self.dtype_autocast(in_idx.device)
        autocast = (
            torch.autocast(device_type=in_idx.device.type, dtype=dtype) if dtype else contextlib.nullcontext()
        )
        with autocast:
            tok_embeds = self.tok_emb(in_idx)  # (b, num_tokens, emb_dim)
            pos_embeds = self.pos_emb(torch.arange(inicio, inicio + num_tokens, device=in_idx.device))
            x = self.drop_emb(tok_embeds + pos_embeds)
            for layer_idx, block in enumerate(self.trf_blocks):
                x = block(x, cache, layer_idx)
            x = self.final_norm(x)
            logits = self.out_head(x)  # (b, num_tokens, vocab_size)

        if cache is not None:
            cache.seq_len = inicio + num_tokens
        return logits.float()


def bf16_acelerado(device: torch.device | str) -> bool:
    """True si en `device` el cálculo bfloat16 es rápido y además se puede ejecutar (`bf16_runs`): CPU con
    instrucciones bf16 (AVX-512 BF16, AMX) o GPU CUDA que lo admita. En el resto (MPS, CPU sin bf16...) el
    autocast a bf16 no compensa. Es lo que usa precision="auto"."""
    device = torch.device(device)
    if device.type == "cuda":
        hardware = torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    elif device.type == "cpu":
        try:
            hardware = bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
        except (AttributeError, RuntimeError):
            hardware = False
    else:
        hardware = False
    return hardware and bf16_runs(device)


def bf16_runs(device: torch.device | str) -> bool:
    """True si en `device` se pueden ejecutar las operaciones que `GPTModelRapido` hace en bfloat16.

    Que el hardware tenga instrucciones bf16 no basta: PyTorch elige sus kernels por otro lado (por
    ejemplo, con ATEN_CPU_CAPABILITY=avx2 en una CPU con AMX, la atención en bf16 falla con «pack_vnni2 is only
    supported when avx512 is supported»). Así que se prueba de verdad: la primera vez, en cada dispositivo, se
    ejecuta una vez una versión diminuta de esas operaciones (lineal, producto de matrices y atención, hacia delante
    y hacia atrás) con formas en las que PyTorch usa sus kernels empaquetados, y la respuesta se guarda.
    Se explica en: seccion05/6_rendimiento.ipynb
    """
    return _fallo_bf16(device) is None


_FALLOS_BF16: dict[str, str | None] = {}  # por dispositivo: None si bf16 funciona; si no, el error de PyTorch


def _fallo_bf16(device: torch.device | str) -> str | None:
    """El resultado guardado de `_probar_bf16` en `device` (la prueba se ejecuta solo la primera vez)."""
    clave = str(torch.device(device))
    if clave not in _FALLOS_BF16:
        _FALLOS_BF16[clave] = _probar_bf16(torch.device(device))
    return _FALLOS_BF16[clave]


@torch.compiler.disable  # una prueba de verdad, fuera de cualquier grafo compilado
def _probar_bf16(device: torch.device) -> str | None:
    """Ejecuta en `device`, con autocast a bf16, las operaciones del modelo; None si funcionan o el error si no.

    Las formas importan: la atención fusionada de la CPU solo empaqueta sus matrices (que es donde puede fallar)
    con 64 consultas y 64 claves o más y cuando cada hilo recibe bastantes consultas; con un lote de 2 cabezas
    empaqueta siempre que puede. Los tensores se crean sin sortear números, para no mover el generador aleatorio.
    """
    try:
        with torch.inference_mode(False), torch.enable_grad():  # también si se llama al generar (sin gradientes)
            x = torch.linspace(-1.0, 1.0, 64 * 64, device=device).view(1, 64, 64).requires_grad_()
            w = torch.linspace(1.0, -1.0, 64 * 64, device=device).view(64, 64).requires_grad_()
            with torch.autocast(device_type=device.type, dtype=torch.bfloat16):
                h = F.linear(x, w)  # (1, 64, 64): las capas lineales
                q = h.view(1, 64, 2, 32).transpose(1, 2)  # (1, 2, 64, 32): 2 cabezas de 32 dimensiones
                atencion = F.scaled_dot_product_attention(q, q, q, is_causal=True)  # la atención fusionada
                puntuaciones = q @ q.transpose(2, 3)  # (1, 2, 64, 64): la atención de `MultiHeadAttention`
            (atencion.float().sum() + puntuaciones.float().sum()).backward()
    except RuntimeError as error:
        mensaje = str(error).strip()
        return mensaje.splitlines()[0] if mensaje else type(error).__name__  # la primera línea basta
    return None


def reutilizar_memoria() -> bool:
    """Hace que el proceso reutilice la memoria que libera en lugar de devolverla al sistema (Linux con glibc).

    Cada paso de entrenamiento crea y libera tensores grandes: los logits (b, n, 50257), los gradientes, las copias
    en bf16 de los pesos... Por defecto, glibc pide al sistema cada bloque de más de 32 MiB y se lo devuelve al
    liberarlo; la vez siguiente, el sistema entrega páginas nuevas, y cada página de 4 KiB que se toca por primera
    vez cuesta un *fallo de página* (el sistema operativo la busca y la llena de ceros). Con el GPT de 124M son cientos de miles
    de fallos por paso. Tras esta llamada, glibc guarda lo liberado y lo reutiliza: no hay fallos de página después
    del primer paso.

    Afecta a todo el proceso y no se deshace; el precio es que el proceso conserva la memoria de su pico hasta que
    termina. Llámala una vez, al principio. Devuelve True si se ha aplicado y False donde no hay glibc (macOS,
    Windows, musl): allí no cambia nada. Se explica en: seccion05/6_rendimiento.ipynb
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt  # de la biblioteca de C ya cargada en el proceso
    except (OSError, AttributeError):
        return False
    m_trim_threshold, m_mmap_max = -1, -4  # constantes de <malloc.h>
    sin_mmap = mallopt(m_mmap_max, 0) == 1  # ningún bloque se pide aparte al sistema: todos salen del montón
    sin_recorte = mallopt(m_trim_threshold, 2**31 - 1) == 1  # no devuelve el final libre del montón (hasta 2 GiB)
    return sin_mmap and sin_recorte


def adamw_rapido(params, lr: float = 0.0004, weight_decay: float = 0.1, **kwargs) -> torch.optim.AdamW:
    """`torch.optim.AdamW` en su variante más rápida: `fused=True` (un kernel para todos los parámetros) si el
    dispositivo lo admite y, si no, `foreach=True`. Crea el optimizador después de mover el modelo al dispositivo.

    Da los mismos pasos que `torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)` salvo redondeo.
    """
    consejo = "El libro usa lr=0.0004 y weight_decay=0.1."
    lr = check_number("lr", lr, hint=consejo)
    if lr <= 0:  # check_number admite el 0 como mínimo; la tasa de aprendizaje tiene que ser positiva
        raise ValueError(f"lr debe ser un número mayor que 0; has pasado {lr:g}. {consejo}")
    weight_decay = check_number("weight_decay", weight_decay, minimum=0, hint=consejo)
    params = list(params)
    try:
        return torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay, fused=True, **kwargs)
    except (RuntimeError, ValueError):
        return torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay, foreach=True, **kwargs)


def _comprobar_cache(model, use_cache) -> None:
    """La caché KV solo la tiene GPTModelRapido: con otro modelo, un TypeError que dice cómo convertirlo."""
    if use_cache and not isinstance(model, GPTModelRapido):
        raise TypeError(
            f"La caché KV necesita un GPTModelRapido y has pasado un {type(model).__name__}. Conviértelo con "
            "GPTModelRapido.desde(model) (mismos pesos) o usa use_cache=False."
        )


def _elegir_siguiente(logits, temperature: float, top_k: int | None):
    """Elige el siguiente token a partir de los logits del último paso (b, vocab_size) -> (b, 1).

    Las mismas reglas que `generate` del libro: top-k deja a -inf los logits fuera de los k mayores; con
    temperature > 0 se muestrea de softmax(logits / temperature); con temperature = 0, voraz (argmax).
    """
    if top_k is not None:
        top_logits, _ = torch.topk(logits, top_k)
        min_val = top_logits[:, -1:]  # (b, 1): el k-ésimo mayor de cada fila
        logits = torch.where(logits < min_val, torch.tensor(float("-inf"), device=logits.device), logits)
    if temperature > 0.0:
        probs = torch.softmax(logits / temperature, dim=-1)
        return torch.multinomial(probs, num_samples=1)
    return torch.argmax(logits, dim=-1, keepdim=True)


def generate_cached(
    model,
    idx,
    max_new_tokens: int,
    context_size: int | None = None,
    temperature: float = 0.0,
    top_k: int | None = None,
    eos_id: int | None = None,
    use_cache: bool = True,
    recortar: bool = False,
):
    """Genera `max_new_tokens` tokens tras `idx` (b, n) y devuelve (b, n + tokens generados), con caché KV.

    Mismos argumentos y reglas de muestreo que `generate` de la sección 5: temperature 0 = voraz; top-k deja a -inf
    los logits fuera de los k mayores; con un solo texto, la generación se detiene en cuanto sale `eos_id`, que no
    se añade, y en un lote cada secuencia terminada solo añade `eos_id` como relleno hasta que terminan todas. Con
    `use_cache=True`, el texto inicial se procesa entero una vez y después cada paso pasa solo el token nuevo: las
    claves y los valores anteriores se leen de la caché.

    `context_size` (por defecto, el context_length del modelo) es la ventana. Con la caché, el texto inicial más los
    tokens nuevos no pueden pasar de ella: se lanza un ValueError antes de empezar. Con `recortar=True`, al llenarse
    la caché se vacía y se recalcula con los últimos `context_size` tokens en cada paso (ventana deslizante, como
    `generate_text_simple`): los tokens son los mismos que sin caché, pero esos pasos ya no se aceleran, porque al
    desplazar la ventana cambia la posición de cada token y sus claves guardadas dejan de valer.
    `use_cache=False` recalcula la ventana entera en cada paso (sirve para comparar; vale con cualquier GPTModel).
    Los argumentos se validan con `check_generation_args`, como en `generate`: los mismos errores en español.
    """
    _comprobar_cache(model, use_cache)
    window = check_generation_args(model, idx, max_new_tokens, context_size, temperature, top_k, eos_id)
    total = idx.shape[1] + max_new_tokens
    if use_cache and not recortar and total > window:
        raise ValueError(
            f"Con la caché KV, el texto inicial ({idx.shape[1]} tokens) más los tokens nuevos ({max_new_tokens}) "
            f"suman {total} y pasan de la ventana context_size={window}: a partir de ahí no hay embedding de "
            "posición para el token siguiente. Genera menos tokens, acorta el texto inicial (idx[:, -n:]) o usa "
            "recortar=True (ventana deslizante, como generate_text_simple)."
        )
    if max_new_tokens == 0:
        return idx

    cache = KVCache(len(model.trf_blocks), max_len=min(window, total)) if use_cache else None
    # Reparte los productos de un token entre los hilos solo si el modelo calcula en fp32 en la CPU: con bf16
    # (pesos o autocast), PyTorch ya usa todos los hilos en esos productos y el reparto solo le quitaría hilos.
    fp32_en_cpu = (
        idx.device.type == "cpu"
        and model.out_head.weight.dtype == torch.float32
        and (not isinstance(model, GPTModelRapido) or model.dtype_autocast(idx.device) is None)
    )
    hilos = torch.get_num_threads() if use_cache and fp32_en_cpu else 1  # con 1 hilo, el reparto no hace nada
    with torch.no_grad(), contextlib.closing(RepartoGEMV(hilos)) as reparto:  # closing: cierra sus hilos al salir
        # Primer paso: todo el texto inicial (llena la caché con sus claves y valores)
        logits = model(idx[:, -window:], cache=cache) if use_cache else model(idx[:, -window:])
        finished = torch.zeros(idx.shape[0], 1, dtype=torch.bool, device=idx.device)  # (b, 1)
        for paso in range(max_new_tokens):
            idx_next = _elegir_siguiente(logits[:, -1, :], temperature, top_k)  # (b, 1)
            if eos_id is not None:
                finished = finished | (idx_next == eos_id)
                if finished.all():  # todas las secuencias han llegado al token de fin
                    break
                idx_next = idx_next.masked_fill(finished, eos_id)  # las terminadas solo añaden relleno
            idx = torch.cat((idx, idx_next), dim=1)  # (b, num_tokens + 1)
            if paso == max_new_tokens - 1:
                break  # ya no hace falta calcular los logits del token siguiente
            if not use_cache:
                logits = model(idx[:, -window:])  # recalcula la ventana entera
            elif cache.seq_len < cache.max_len:
                with reparto:  # productos matriz-vector repartidos entre los hilos
                    logits = model(idx_next, cache=cache)  # solo el token nuevo: (b, 1, vocab_size)
            else:
                cache.reset()  # ventana deslizante (recortar=True): las posiciones cambian, se recalcula
                logits = model(idx[:, -window:], cache=cache)
    return idx
