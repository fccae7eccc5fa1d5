// The page: toolbar and caption on top; the diagram over the trace on the left; the inspector over
// the command palette on the right. Fits 1440x900 without page scroll; panels scroll inside.

import { Toolbar } from './Toolbar.tsx';
import { CaptionBar } from './CaptionBar.tsx';
import { Counters } from './Counters.tsx';
import { Diagram } from './diagram/Diagram.tsx';
import { TracePanel } from './TracePanel.tsx';
import { Inspector } from './inspector/Inspector.tsx';
import { CommandPalette } from './CommandPalette.tsx';
import { Legend } from './Legend.tsx';
import { useShortcuts } from './shortcuts.ts';
import { HelpOverlay } from './HelpOverlay.tsx';
import { ReviewLayer } from './review/ReviewLayer.tsx';
import { RecordBar } from './record/RecordBar.tsx';

export function App() {
  useShortcuts();
  return (
    <div className="app" data-testid="app">
      <Toolbar />
      <RecordBar />
      <CaptionBar />
      <main className="main">
        <div className="left">
          <section className="panel diagram-panel">
            <div className="diagram-head">
              <Counters />
              <Legend />
            </div>
            <Diagram />
          </section>
          <TracePanel />
        </div>
        <div className="right">
          <Inspector />
          <CommandPalette />
        </div>
      </main>
      <HelpOverlay />
      <ReviewLayer />
    </div>
  );
}
