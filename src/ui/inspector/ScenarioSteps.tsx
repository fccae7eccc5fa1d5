// The loaded scenario's steps: done ones dimmed, the next one ("Do next command") highlighted, each
// with its command and caption. A click moves the cursor to the end of that step (applying the steps
// before it if they are not applied yet), so a presenter can jump anywhere in the story.

import { useEffect, useRef } from 'react';
import { actions, useApp } from '../../store/index.ts';
import { Section } from './parts.tsx';
import { StepCheck } from '../record/CheckBadge.tsx';

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
        <li className={next === 0 ? 'next start' : 'done start'}>
          <button
            className="step-link"
            data-testid="step-link-start"
            onClick={() => void actions.seekStep(-1)}
          >
            start (no command applied)
          </button>
        </li>
        {current.steps.map((st, i) => {
          const { op, ...args } = st.command;
          const argText = Object.entries(args)
            .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
            .join(' ');
          return (
            <li key={i} className={i < next ? 'done' : i === next ? 'next' : ''}>
              <button
                className="step-link"
                data-testid={`step-link-${i + 1}`}
                onClick={() => void actions.seekStep(i)}
                title={`go to the end of step ${i + 1}`}
              >
                <span className="step-n">{i + 1}</span>
                <code>
                  <b>{op}</b> {argText}
                </code>
                {st.expect !== undefined && (
                  <span className="expect-tag" title="this step has an expectation">
                    expect
                  </span>
                )}
                <StepCheck index={i} />
              </button>
              {st.caption && <div className="cap">{st.caption}</div>}
            </li>
          );
        })}
      </ol>
    </Section>
  );
}
