// Entry point of the caregivers' dashboard (bundled by dashboard/build.ts into dist/app.js).
import { render } from 'preact';
import { App } from './ui/App.tsx';

render(<App />, document.getElementById('app') as HTMLElement);
