// A still diagram of one engine state (a side-by-side pane, the handout): the page's own DiagramView
// over a small store of its own holding that state with the cursor at the end of its trace.

import { useEffect, useRef } from 'react';
import { createStore, type StoreApi } from 'zustand/vanilla';
import type { SystemState, TraceEvent } from '../../engine/index.ts';
import { initialState, type AppState } from '../../store/slices.ts';
import { DiagramView } from '../diagram/view.ts';

const NO_TOKENS = { tokens: [] };

export function stillState(
  state: SystemState,
  trace: TraceEvent[],
  theme: 'light' | 'dark' | null,
): AppState {
  const s = initialState();
  const length = trace.length > 0 ? trace[trace.length - 1].seq + 1 : 0;
  return {
    ...s,
    engine: {
      ...s.engine,
      state,
      head: state,
      trace,
      traceLength: length,
      batch: { id: 1, events: trace, animate: false },
    },
    cursor: { ...s.cursor, at: length },
    presentation: { ...s.presentation, theme },
  };
}

export function MiniDiagram(props: {
  state: SystemState;
  trace: TraceEvent[];
  theme: 'light' | 'dark' | null;
  testid?: string;
}) {
  const ref = useRef<HTMLDivElement>(null);
  const local = useRef<StoreApi<AppState> | null>(null);
  useEffect(() => {
    local.current = createStore<AppState>()(() => stillState(props.state, props.trace, props.theme));
    const view = new DiagramView(ref.current!, local.current, NO_TOKENS, () => {});
    return () => view.destroy();
    // the view is made once; the effect below feeds it
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);
  useEffect(() => {
    local.current?.setState(stillState(props.state, props.trace, props.theme));
  }, [props.state, props.trace, props.theme]);
  return <div className="diagram mini-diagram" data-testid={props.testid} ref={ref} />;
}
