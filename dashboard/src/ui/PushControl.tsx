// The top bar's "notifications on this phone" switch (dashboard/src/push.ts): alarms escalated to
// this user then reach the phone as notifications with 我去处理 / 无法处理, even with the screen closed.
import { useEffect, useState } from 'preact/hooks';
import { disablePush, enablePush, type PushSupport, pushState } from '../push.ts';
import { useI18n, useSession } from './context.ts';

export function PushControl() {
  const { t } = useI18n();
  const { api } = useSession();
  const [state, setState] = useState<PushSupport | 'busy' | 'failed'>('busy');
  useEffect(() => {
    void pushState().then(setState, () => setState('unsupported'));
  }, []);
  if (state === 'unsupported') return null;
  const turn = (on: boolean) => {
    setState('busy');
    (on ? enablePush(api) : disablePush(api)).then(
      () => setState(on ? 'on' : 'off'),
      (err: Error) => setState(err.message === 'denied' ? 'denied' : 'failed'),
    );
  };
  if (state === 'denied')
    return (
      <span class="push-note" data-testid="push-toggle" data-state="denied">
        {t('push.denied')}
      </span>
    );
  return (
    <button
      type="button"
      class="btn btn-quiet"
      data-testid="push-toggle"
      data-state={state}
      disabled={state === 'busy'}
      title={t('push.hint')}
      onClick={() => turn(state !== 'on')}
    >
      {state === 'on' ? t('push.disable') : state === 'failed' ? t('push.failed') : t('push.enable')}
    </button>
  );
}
