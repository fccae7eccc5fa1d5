// The loaded scenario's steps: done ones dimmed, the next one ("Do next command") highlighted, each
// with its command and caption, so a presenter sees where the story is.

import { useEffect, useRef } from 'react';
import { useApp } from '../../store/index.ts';
import { Section } from './parts.tsx';

export function ScenarioSteps() {
  const current = useApp((s) => s.scenario.current);
  const next = useApp((s) => s.scenario.stepIndex);
  const list = useRef<HTMLOListElement>(null);
  useEffect(() => {
    list.current?.querySelector('li.next')?.scrollIntoView({ block: 'nearest' });
  }, [next, current]);
  if (!current) return null;
  return (
    <Section title={`Scenario: ${current.steps.length} steps`}>
      <ol className="steps" data-testid="scenario-steps" ref={list}>
        {current.steps.map((st, i) => {
          const { op, ...args } = st.command;
          const argText = Object.entries(args)
            .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
            .join(' ');
          return (
            <li key={i} className={i < next ? 'done' : i === next ? 'next' : ''}>
              <code>
                <b>{op}</b> {argText}
              </code>
              {st.caption && <div className="cap">{st.caption}</div>}
            </li>
          );
        })}
      </ol>
    </Section>
  );
}
