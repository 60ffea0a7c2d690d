// The alarm sound, made with Web Audio so there is no file to fail to load. Browsers only allow
// audio after a click, so the screen shows an explicit "enable sound" control and a test button
// (nightscout #233/#5738: alarms shown but not heard). While any alarm is active and unacknowledged
// a two-tone pattern repeats.

const PATTERN_MS = 1600;

export class AlarmSound {
  private ctx: AudioContext | null = null;
  private timer: ReturnType<typeof setInterval> | undefined;
  private testTimer: ReturnType<typeof setTimeout> | undefined;
  private alarming = false;
  private testing = false;

  get enabled(): boolean {
    return this.ctx !== null && this.ctx.state === 'running';
  }

  /** Must be called from a click handler. */
  async enable(): Promise<boolean> {
    if (!this.ctx) this.ctx = new AudioContext();
    if (this.ctx.state !== 'running') await this.ctx.resume();
    this.update();
    return this.enabled;
  }

  async disable(): Promise<void> {
    await this.ctx?.close();
    this.ctx = null;
    this.update();
  }

  /** Keeps the alarm pattern repeating while `on` (an unacknowledged alarm is on the board). */
  setAlarming(on: boolean): void {
    this.alarming = on;
    this.update();
  }

  /** Plays the pattern for a few seconds so staff can check the speakers. */
  async test(): Promise<void> {
    await this.enable();
    this.testing = true;
    this.update();
    clearTimeout(this.testTimer);
    this.testTimer = setTimeout(() => {
      this.testing = false;
      this.update();
    }, PATTERN_MS * 2);
  }

  private update(): void {
    const want = this.enabled && (this.alarming || this.testing);
    if (want && this.timer === undefined) {
      this.playPattern();
      this.timer = setInterval(() => this.playPattern(), PATTERN_MS);
    } else if (!want && this.timer !== undefined) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  private playPattern(): void {
    const ctx = this.ctx;
    if (ctx?.state !== 'running') return;
    const t0 = ctx.currentTime;
    // Two alternating tones, loud but not clipped: recognisable as an alarm, not a notification chime.
    [880, 660, 880, 660].forEach((freq, i) => {
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.type = 'square';
      osc.frequency.value = freq;
      const start = t0 + i * 0.22;
      gain.gain.setValueAtTime(0.0001, start);
      gain.gain.exponentialRampToValueAtTime(0.25, start + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, start + 0.2);
      osc.connect(gain).connect(ctx.destination);
      osc.start(start);
      osc.stop(start + 0.21);
    });
  }
}
