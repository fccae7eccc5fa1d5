// The design-review tools' own state (presentation mode, the side-by-side view, the export dialogs),
// apart from the app store: these tools read the app's store and call its actions, they add no slice.

import { createStore } from 'zustand/vanilla';
import { useStore } from 'zustand';
import type { CostModel, DesignGeneration, KernelProfile } from '../../engine/index.ts';
import type { PathFilter } from './summary.ts';

/** One side of the side-by-side view: the overrides it loads the scenario with. */
export interface PaneConfig {
  design: DesignGeneration;
  profile: KernelProfile;
  /** iommu.posted_interrupts (with interrupt remapping on); null: the scenario's own. */
  posted: boolean | null;
  /** Which interrupts the summary counts (direct vs intercepted). */
  path: PathFilter;
}

export interface HandoutPage {
  step: number | null;
  caption: string;
  note: string;
  annotations: string[];
  svg: string;
  width: number;
  height: number;
}

export interface ReviewState {
  presenting: boolean;
  overview: boolean;
  pointer: boolean;
  notes: boolean;
  menu: boolean;
  compare: { a: PaneConfig; b: PaneConfig; step: number } | null;
  /** Cost edits for the side-by-side view (virtual ns, by cost name). */
  cost: Partial<CostModel>;
  text: { title: string; name: string; body: string } | null;
  editor: boolean;
  handout: HandoutPage[] | null;
  /** What an export just did (shown in the menu; read by the tests). */
  status: string;
}

export const review = createStore<ReviewState>()(() => ({
  presenting: false,
  overview: false,
  pointer: false,
  notes: true,
  menu: false,
  compare: null,
  cost: {},
  text: null,
  editor: false,
  handout: null,
  status: '',
}));

export function useReview<T>(selector: (s: ReviewState) => T): T {
  return useStore(review, selector);
}

export const setReview = (patch: Partial<ReviewState>): void => review.setState(patch);
