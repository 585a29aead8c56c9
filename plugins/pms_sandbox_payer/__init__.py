"""The sandbox payer: a payer behind a clearinghouse, on this machine, deterministic
from a seed (see `pms_sandbox_payer.payer` and `pms_sandbox_payer.transport`)."""
