// The diagram as React sees it: an empty div. DiagramView (d3 + canvas) owns everything inside.

import { useEffect, useRef } from 'react';
import { actions, store } from '../../store/index.ts';
import { DiagramView } from './view.ts';

export function Diagram() {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const view = new DiagramView(ref.current!, store, actions.player, (id) => actions.selectNode(id));
    return () => view.destroy();
  }, []);
  return <div className="diagram" data-testid="diagram" ref={ref} />;
}
