// What one side-by-side pane loads: the page's scenario with the pane's posted-interrupt choice and the
// edited costs written in (the design and the profile go as load overrides).

import type { CostModel } from '../../engine/index.ts';
import type { Scenario } from '../../worker/api.ts';
import { costOverrides } from './costs.ts';
import type { PaneConfig } from './reviewStore.ts';

/** The scenario as the pane loads it: its posted-interrupt choice and the edited costs written in. */
export function paneScenario(s: Scenario, c: PaneConfig, cost: Partial<CostModel>): Scenario {
  const topology =
    c.posted === null
      ? s.topology
      : {
          ...s.topology,
          iommu: { ...s.topology.iommu, interrupt_remapping: true, posted_interrupts: c.posted },
        };
  const edits = costOverrides(cost);
  const options = Object.keys(edits).length
    ? { ...s.options, cost: { ...s.options?.cost, ...edits } }
    : s.options;
  return { ...s, topology, ...(options ? { options } : {}) };
}
