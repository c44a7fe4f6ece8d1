// The story events of the CharaConsist reference (story.ts StoryEvent), kept once each and listed
// in the official order, so that the lockstep order (which recomputes the identity and the scene
// sources in several passes) reports exactly what the cached order reports.

import type { StoryEvent } from '../characonsist/story';

const RUN_ORDER = { pre: 0, full: 1 } as const;

export class EventLog {
  private readonly events = new Map<string, StoryEvent>();

  constructor(private readonly maskStep: number) {}

  record(event: StoryEvent): void {
    this.events.set(JSON.stringify(event), event);
  }

  /** Identity first, then frame by frame: the size check, the pre-run by step, the full run by step. */
  list(): StoryEvent[] {
    return [...this.events.values()].sort((a, b) => compareKeys(this.orderKey(a), this.orderKey(b)));
  }

  /** Where the event happens in the official sequential run. */
  private orderKey(event: StoryEvent): number[] {
    switch (event.kind) {
      case 'empty-identity-foreground':
        return [-1];
      case 'background-size-mismatch':
        return [event.frame, -1];
      // During a forward pass (extras), after it (mask), then after the mask (matching).
      case 'empty-shared-background':
        return [event.frame, RUN_ORDER[event.run], event.step, 0];
      case 'empty-foreground':
        return [event.frame, RUN_ORDER[event.run], event.step, 1];
      case 'no-valid-match':
        return [event.frame, RUN_ORDER[event.run], this.maskStep, 2];
    }
  }
}

function compareKeys(a: number[], b: number[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}
