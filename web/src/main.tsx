import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { Shell } from './shell/Shell';
import './styles.css';

// One build, two apps: the server answers index.html under /citizen/ and /employee/.
const app = window.location.pathname.startsWith('/employee') ? 'employee' : 'citizen';

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <Shell app={app} />
  </StrictMode>,
);
