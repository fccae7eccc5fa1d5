// The kernel profiles the engine models, and the real kernels whose answers the oracle recorded for them
// (oracle/fixtures; test/conformance.test.ts checks these releases against the recordings).
import type { KernelProfile } from './types.ts';

export const PROFILES: Record<KernelProfile, { label: string; release: string; summary: string }> = {
  '6.1': {
    label: 'Linux 6.1',
    release: '6.1.0-56-amd64',
    summary: 'fixed per-vector context array; no dynamic MSI-X (NORESIZE)',
  },
  '6.12': {
    label: 'Linux 6.12',
    release: '6.12.117+deb12-amd64',
    summary: 'per-vector contexts in an xarray; dynamic MSI-X (pci_msix_alloc_irq_at)',
  },
};
