import type { ComponentChildren } from 'preact';

export function PageHead({ title, subtitle, actions, back }: { title: ComponentChildren; subtitle?: ComponentChildren; actions?: ComponentChildren; back?: ComponentChildren }) {
  return (
    <header class="page-head">
      <div class="page-title">
        {back}
        <h1>{title}</h1>
        {subtitle && <p class="muted">{subtitle}</p>}
      </div>
      {actions && <div class="page-actions">{actions}</div>}
    </header>
  );
}
