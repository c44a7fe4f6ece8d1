// The editor's form fields: a label, the control, and beside it the field's problems and (for
// texts) its T5 token count. Problems come from the editor's verdict, by field path.

import { createContext, useContext, useEffect, useId, useState, type ReactNode } from 'react';
import { useTokenCounts } from './token-counts';
import { promptFit, type PromptFit } from './validation';

/** Problems by field path (`frames[2].width`), shown once Generate was pressed. */
export const ProblemsContext = createContext<Map<string, string[]>>(new Map());

/** The DOM id of the control of a field path, so a problem can take the focus to its field. */
export const fieldId = (path: string) => `field-${path.replace(/[^a-zA-Z0-9]+/g, '-')}`;

function useFieldProblems(path: string): string[] {
  return useContext(ProblemsContext).get(path) ?? [];
}

interface FieldFrame {
  path: string;
  label: ReactNode;
  hint?: ReactNode;
  /** shown on the label's line, right-aligned (a token count...) */
  aside?: ReactNode;
  className?: string;
}

/** Label, control, hint and problems, wired with ids so screen readers read them with the control. */
function Field({ path, label, hint, aside, className, children }: FieldFrame & { children: (props: ControlProps) => ReactNode }) {
  const problems = useFieldProblems(path);
  const hintId = useId();
  const problemId = useId();
  const describedBy = [problems.length ? problemId : '', hint ? hintId : ''].filter(Boolean).join(' ') || undefined;
  return (
    <div className={`field ${className ?? ''}`} data-invalid={problems.length > 0 || undefined}>
      <div className="field-label">
        <label htmlFor={fieldId(path)}>{label}</label>
        {aside}
      </div>
      {children({ id: fieldId(path), 'aria-invalid': problems.length > 0 || undefined, 'aria-describedby': describedBy })}
      {problems.length > 0 && (
        <p className="field-problem" id={problemId}>
          {problems.join('; ')}
        </p>
      )}
      {hint && (
        <p className="field-hint" id={hintId}>
          {hint}
        </p>
      )}
    </div>
  );
}

interface ControlProps {
  id: string;
  'aria-invalid'?: boolean;
  'aria-describedby'?: string;
}

/** A text field with its T5 token count beside the label. */
export function TextField({ value, onChange, multiline, placeholder, ...frame }: FieldFrame & {
  value: string;
  onChange(value: string): void;
  multiline?: boolean;
  placeholder?: string;
}) {
  return (
    <Field {...frame} aside={<TokenCount text={value} />}>
      {(props) =>
        multiline ? (
          <textarea {...props} value={value} rows={2} placeholder={placeholder} onChange={(e) => onChange(e.target.value)} />
        ) : (
          <input {...props} type="text" value={value} placeholder={placeholder} onChange={(e) => onChange(e.target.value)} />
        )
      }
    </Field>
  );
}

/**
 * A whole-number field. It keeps what is typed (an unfinished "1e" or an empty box) and hands the
 * store a number: NaN when required and cleared, undefined when optional and cleared.
 */
export function NumberField({ value, onChange, optional, placeholder, step, min, max, ...frame }: FieldFrame & {
  value: number | undefined;
  onChange(value: number | undefined): void;
  optional?: boolean;
  placeholder?: string;
  step?: number;
  min?: number;
  max?: number;
}) {
  // A persisted NaN comes back as null.
  const current = value ?? (optional ? undefined : Number.NaN);
  const shown = current === undefined || Number.isNaN(current) ? '' : String(current);
  const [draft, setDraft] = useState(shown);
  useEffect(() => {
    // Follow changes made elsewhere (re-roll, example, restore), not the echo of our own typing.
    setDraft((typed) => (Object.is(parsed(typed, optional), current) ? typed : shown));
  }, [current, shown, optional]);
  return (
    <Field {...frame}>
      {(props) => (
        <input
          {...props}
          type="number"
          inputMode="numeric"
          value={draft}
          placeholder={placeholder}
          step={step}
          min={min}
          max={max}
          onChange={(e) => {
            setDraft(e.target.value);
            onChange(parsed(e.target.value, optional));
          }}
        />
      )}
    </Field>
  );
}

function parsed(text: string, optional?: boolean): number | undefined {
  if (text.trim() === '') return optional ? undefined : Number.NaN;
  return Number(text);
}

/** "12 tokens" for a field's text (blank until counted). */
export function TokenCount({ text }: { text: string }) {
  const count = useTokenCounts((state) => state.counts.get(text));
  if (count === undefined || text.trim() === '') return null;
  return <span className="token-count">{count === 1 ? '1 token' : `${count} tokens`}</span>;
}

/** How a whole prompt fits T5's limit: a quiet count, a warning near the limit, an error past it. */
export function PromptFitLine({ prompt, limit }: { prompt: string; limit: number }) {
  const fit: PromptFit = promptFit(useTokenCounts((state) => state.counts.get(prompt)), limit);
  const failed = useTokenCounts((state) => state.failed !== undefined);
  if (fit.kind === 'unknown') return failed ? null : <p className="prompt-fit muted">Counting the prompt’s T5 tokens…</p>;
  const used = `${fit.tokens + 1} of ${limit} T5 tokens`;
  const words = {
    fits: `Prompt: ${used}.`,
    'near-limit': `Prompt: ${used}: close to the limit; a longer text would not fit.`,
    'cut-off': `Prompt: ${used}: too long, T5 would not read the end of it.`,
  }[fit.kind];
  return <p className={`prompt-fit ${fit.kind}`}>{words}</p>;
}
