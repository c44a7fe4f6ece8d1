// The editor's problems as a React hook: recomputed when the story, the run options, the token
// counts or the models change; empty until Generate was pressed once.

import { useMemo } from 'react';
import type { FieldProblem } from '../../schema/validate';
import { useGenerationModels } from '../models/models-store';
import { useStory } from './story-store';
import { useTokenCounts } from './token-counts';
import { editorProblems } from './validation';

export function useEditorProblems(): FieldProblem[] {
  const show = useStory((state) => state.showProblems);
  const story = useStory((state) => state.story);
  const run = useStory((state) => state.run);
  const counts = useTokenCounts((state) => state.counts);
  const models = useGenerationModels();
  const model = models.ready ? models.bundle.schedule : undefined;
  return useMemo(() => (show ? editorProblems(story, run, (text) => counts.get(text), model) : []), [show, story, run, counts, model]);
}
