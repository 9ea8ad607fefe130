"""Fine-tuning an encoder for sentence classification, to rerun an analysis on the tuned
copy (Durrani, Dalvi and Sajjad, Table 6 and Fig. 8)."""

from __future__ import annotations

import copy
from collections.abc import Sequence

import torch
from tqdm.auto import tqdm

from utils.cache import cached, content_key, module_fingerprint
from utils.tokens import model_max_length


def fine_tuned_encoder(
    model: torch.nn.Module,
    tokenizer,
    sentences: Sequence[Sequence[str]],
    labels: Sequence[int],
    *,
    steps: int = 300,
    batch_size: int = 16,
    lr: float = 5e-5,
    seed: int = 0,
    progress: bool = True,
) -> torch.nn.Module:
    """A copy of ``model`` fine-tuned for sentence classification (disk-cached).

    A linear head on the mean of the last layer's token vectors is trained with every
    encoder weight by AdamW on cross-entropy, ``steps`` mini-batches of ``batch_size``
    sentences. The head is discarded: the copy is the encoder, for LCA before and after
    fine-tuning (Table 6, with a sentence task of the corpus standing in for GLUE).
    """
    if len(sentences) != len(labels) or len(sentences) == 0:
        raise ValueError(f"{len(sentences)} sentences but {len(labels)} labels")
    device = next(model.parameters()).device
    y = torch.as_tensor(labels, dtype=torch.long)
    n_classes = int(y.max()) + 1
    config = {
        "model": module_fingerprint(model),
        "data": content_key([list(s) for s in sentences], y),
        "training": [steps, batch_size, lr, seed],
    }

    limit = min(getattr(tokenizer, "model_max_length", None) or 1 << 30, model_max_length(model))

    def build() -> dict[str, torch.Tensor]:
        tuned = copy.deepcopy(model).train()
        generator = torch.Generator().manual_seed(seed)
        head = torch.nn.Linear(model.config.hidden_size, n_classes).to(device)
        parameters = list(tuned.parameters()) + list(head.parameters())
        optimizer = torch.optim.AdamW(parameters, lr=lr)
        for _ in tqdm(range(steps), desc="fine-tuning", disable=not progress, leave=False):
            batch = torch.randint(len(sentences), (batch_size,), generator=generator).tolist()
            encoded = tokenizer(
                [list(sentences[i]) for i in batch],
                is_split_into_words=True,
                padding=True,
                truncation=True,  # a sentence over the model's limit loses its end
                max_length=limit,
                return_tensors="pt",
            ).to(device)
            hidden = tuned(**encoded).last_hidden_state
            mask = encoded["attention_mask"].unsqueeze(-1).float()
            pooled = (hidden * mask).sum(1) / mask.sum(1)
            loss = torch.nn.functional.cross_entropy(head(pooled), y[batch].to(device))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        return {k: v.detach().cpu() for k, v in tuned.state_dict().items()}

    state = cached("fine-tuned-encoder", config, build, description=f"{steps} steps")
    tuned = copy.deepcopy(model)
    tuned.load_state_dict(state)
    return tuned.eval()
