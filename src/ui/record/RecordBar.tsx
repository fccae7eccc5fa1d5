// The recorder's bar under the toolbar: Record/Stop, the recorded steps, the user's library, Open file
// (also by dropping a file on the page), Save JSON, Export Playwright test, Share link, Perfetto trace,
// and the check of the scenario step the page applied last.

import { useEffect, useRef, useState } from 'react';
import { useApp } from '../../store/index.ts';
import {
  dismiss,
  exportSpec,
  exportTrace,
  importFile,
  saveJson,
  share,
  startRecording,
  stopRecording,
  toggleDrawer,
  useRecorder,
} from './recorder.ts';
import { LibraryMenu } from './LibraryMenu.tsx';
import { CheckBadge } from './CheckBadge.tsx';
import { RecordDrawer } from './RecordDrawer.tsx';
import { ExpectHover } from './ExpectHover.tsx';
import './record.css';

export function RecordBar() {
  const recording = useRecorder((s) => s.recording);
  const built = useRecorder((s) => s.built);
  const marks = useRecorder((s) => s.marks.length);
  const ready = useRecorder((s) => s.ready);
  const drawer = useRecorder((s) => s.drawer);
  const saves = useRecorder((s) => s.sessionSaves);
  const current = useApp((s) => s.scenario.current);
  const file = useRef<HTMLInputElement>(null);
  const [dragging, setDragging] = useState(false);
  const self = useRef<HTMLDivElement>(null);

  // page-wide classes for record.css (the grid row, the drawer's column, the hover outline)
  useEffect(() => {
    const html = document.documentElement.classList;
    html.add('with-record-bar');
    html.toggle('rec-drawer-open', drawer);
    html.toggle('rec-recording', recording !== null);
  }, [drawer, recording]);

  // where the bar ends, for the drawer below it (the toolbar above wraps on narrow windows)
  useEffect(() => {
    const el = self.current;
    if (!el) return;
    const put = () =>
      document.documentElement.style.setProperty('--rec-bottom', `${el.getBoundingClientRect().bottom}px`);
    put();
    const ro = new ResizeObserver(put);
    ro.observe(el);
    if (el.parentElement) ro.observe(el.parentElement);
    return () => ro.disconnect();
  }, []);

  useEffect(() => {
    const hasFile = (e: DragEvent) => [...(e.dataTransfer?.types ?? [])].includes('Files');
    const over = (e: DragEvent) => {
      if (!hasFile(e)) return;
      e.preventDefault();
      setDragging(true);
    };
    const leave = (e: DragEvent) => {
      if (e.relatedTarget === null) setDragging(false);
    };
    const drop = (e: DragEvent) => {
      if (!hasFile(e)) return;
      e.preventDefault();
      setDragging(false);
      const f = e.dataTransfer?.files[0];
      if (f) void importFile(f);
    };
    window.addEventListener('dragover', over);
    window.addEventListener('dragleave', leave);
    window.addEventListener('drop', drop);
    return () => {
      window.removeEventListener('dragover', over);
      window.removeEventListener('dragleave', leave);
      window.removeEventListener('drop', drop);
    };
  }, []);

  return (
    <div
      ref={self}
      className={recording ? 'record-bar recording' : 'record-bar'}
      data-testid="record-bar"
      data-scenario={current?.name ?? ''}
      data-ready={ready}
      data-recording={recording !== null}
      data-recorded-steps={built?.steps.length ?? 0}
      data-session-saves={saves}
    >
      {recording ? (
        <button data-testid="btn-record-stop" className="rec-btn on" onClick={() => void stopRecording()}>
          ■ Stop recording
        </button>
      ) : (
        <button
          data-testid="btn-record"
          className="rec-btn"
          onClick={() => void startRecording()}
          disabled={!current}
          title="Record what you do from the loaded scenario's topology: commands, inspector edits, Step and Run"
        >
          ● Record
        </button>
      )}
      <button
        data-testid="btn-record-steps"
        className={drawer ? 'small pressed' : 'small'}
        onClick={() => toggleDrawer()}
        aria-expanded={drawer}
        title="The recorded steps, their captions and expectations"
      >
        {recording ? `${built?.steps.length ?? 0} steps · ${marks} expect` : 'Steps'}
      </button>
      <span className="rec-sep" />
      <LibraryMenu />
      <button
        data-testid="btn-open-file"
        className="small"
        onClick={() => file.current?.click()}
        title="Open a scenario file (or drop one on the page)"
      >
        Open file…
      </button>
      <input
        ref={file}
        type="file"
        accept=".json,application/json"
        data-testid="record-file-input"
        hidden
        onChange={(e) => {
          const f = e.currentTarget.files?.[0];
          e.currentTarget.value = '';
          if (f) void importFile(f);
        }}
      />
      <button
        data-testid="btn-save"
        className="small"
        onClick={() => void saveJson()}
        title="Download the scenario as JSON (irqflow run takes it)"
      >
        Save JSON
      </button>
      <button
        data-testid="btn-export-spec"
        className="small"
        onClick={() => void exportSpec()}
        title="Download a Playwright test that replays this scenario in the page"
      >
        Export test
      </button>
      <button
        data-testid="btn-share"
        className="small"
        onClick={() => void share()}
        title="A link carrying this scenario, at this step, profile and design"
      >
        Share link
      </button>
      <button
        data-testid="btn-trace"
        className="small"
        onClick={() => void exportTrace()}
        title="Download the trace so far in the Chrome trace format, for ui.perfetto.dev"
      >
        Perfetto trace
      </button>
      <span className="rec-end">
        <CheckBadge />
      </span>
      <Message />
      {drawer && <RecordDrawer />}
      <ExpectHover />
      {dragging && (
        <div className="drop-overlay" data-testid="drop-overlay">
          Drop a scenario file to open it
        </div>
      )}
    </div>
  );
}

function Message() {
  const message = useRecorder((s) => s.message);
  const shareUrl = useRecorder((s) => s.shareUrl);
  if (!message && !shareUrl) return null;
  return (
    <div
      className={`rec-message ${message?.kind ?? 'info'}`}
      data-testid="record-message"
      data-kind={message?.kind ?? 'info'}
      role={message?.kind === 'error' ? 'alert' : 'status'}
    >
      <div className="rec-message-head">
        <b>{message?.title ?? 'Share link'}</b>
        <button className="icon" data-testid="record-message-close" onClick={dismiss} aria-label="Close">
          ×
        </button>
      </div>
      {message && message.lines.length > 0 && (
        <ul>
          {message.lines.slice(0, 12).map((l, i) => (
            <li key={i} className="mono">
              {l}
            </li>
          ))}
          {message.lines.length > 12 && <li>and {message.lines.length - 12} more</li>}
        </ul>
      )}
      {shareUrl && (
        <input
          className="mono share-url"
          data-testid="share-url"
          readOnly
          value={shareUrl}
          onFocus={(e) => e.currentTarget.select()}
        />
      )}
    </div>
  );
}
