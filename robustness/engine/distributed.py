"""Data-parallel retraining across processes started by torchrun (DDP; gloo on CPU, NCCL on CUDA).

`torchrun --nproc-per-node N -m robustness.engine retrain ...` starts N copies of the command;
each reads RANK / WORLD_SIZE / LOCAL_RANK from its environment. The trainer (finetune.py) then
splits every global batch of `batch_size` examples into N equal contiguous shards, wraps the
vision tower in `DistributedDataParallel` (which averages the gradients, so a step sees the
gradient of the whole global batch), draws the PGD random start for the *global* batch on
every rank from the same seeded generator and keeps its own rows, and lets rank 0 alone write
the training state and outputs. The same global batch therefore gives the same weights as one
process, up to the order of floating-point sums in the gradient average.

Towers with BatchNorm (RN50) normalise per shard under DDP, as every DDP job does unless it
converts them to SyncBatchNorm; a ViT tower has none.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta

import torch
import torch.distributed as dist

from robustness.engine.errors import EngineError

DEFAULT_TIMEOUT = timedelta(minutes=30)


class DistributedError(EngineError):
    """The distributed environment is missing or inconsistent."""


@dataclass(frozen=True)
class DistributedRun:
    """This process's place in a torchrun job."""

    rank: int
    world_size: int
    local_rank: int

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def shard(self, indices: list[int]) -> list[int]:
        """This rank's contiguous share of a global batch (the batch divides evenly: checked)."""
        if len(indices) % self.world_size:
            raise DistributedError(f"a batch of {len(indices)} does not split over {self.world_size} processes")
        return indices[self.rows(len(indices))]

    def rows(self, global_rows: int) -> slice:
        """This rank's rows of a global batch of `global_rows`."""
        size = global_rows // self.world_size
        return slice(self.rank * size, (self.rank + 1) * size)

    def device(self, requested: torch.device) -> torch.device:
        """CUDA runs one process per GPU: cuda:LOCAL_RANK; the CPU is shared."""
        return torch.device("cuda", self.local_rank) if requested.type == "cuda" else requested

    def mean(self, value: float, device: torch.device) -> float:
        """The average of a float over the ranks (for logging the global batch's loss)."""
        total = torch.tensor([value], dtype=torch.float64, device=device)
        dist.all_reduce(total)
        return float(total.item()) / self.world_size

    def decided_by_main(self, flag: bool, device: torch.device) -> bool:
        """Rank 0's answer, on every rank (so that a cancel stops all ranks at the same step)."""
        value = torch.tensor([1 if flag else 0], device=device)
        dist.broadcast(value, src=0)
        return bool(value.item())

    def barrier(self) -> None:
        dist.barrier()


def from_environment(device: torch.device) -> DistributedRun | None:
    """Join the torchrun job this process belongs to, or None when it runs alone.

    The backend follows the device: NCCL for CUDA, gloo for the CPU.
    """
    world_size = int(os.environ.get("WORLD_SIZE", "1") or "1")
    if world_size <= 1:
        return None
    try:
        run = DistributedRun(int(os.environ["RANK"]), world_size, int(os.environ.get("LOCAL_RANK", "0")))
    except (KeyError, ValueError) as error:
        raise DistributedError(f"WORLD_SIZE is {world_size} but RANK is missing or invalid: start with torchrun") \
            from error
    if device.type == "cuda":
        torch.cuda.set_device(run.local_rank)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo", timeout=DEFAULT_TIMEOUT)
    return run


def leave() -> None:
    """Tear the process group down (idempotent)."""
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()
