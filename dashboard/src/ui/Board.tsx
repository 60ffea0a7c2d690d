// The live alarm board: open alarms in board order (active first, by priority, oldest first).
import type { Alarm } from '../../../protocol/schemas.ts';
import { boardOrder } from '../lib/board.ts';
import { AlarmCard } from './AlarmCard.tsx';
import { useI18n } from './context.ts';
import { useNow } from './hooks.ts';

export function Board(props: { alarms: ReadonlyMap<string, Alarm>; ready: boolean }) {
  const { t } = useI18n();
  const now = useNow(1000);
  const ordered = boardOrder(props.alarms.values());
  const active = ordered.filter((a) => a.state === 'active').length;
  if (!props.ready) return <p class="empty">{t('app.loading')}</p>;
  return (
    <section class="board" aria-live="polite">
      <div class="board-summary" data-testid="board-summary">
        {t('board.count', { active, acked: ordered.length - active })}
      </div>
      {ordered.length === 0 ? (
        <p class="empty board-empty">✓ {t('board.empty')}</p>
      ) : (
        <div class="cards">
          {ordered.map((a) => (
            <AlarmCard alarm={a} now={now} key={a.id} />
          ))}
        </div>
      )}
    </section>
  );
}
