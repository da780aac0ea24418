import { html, type Html } from './html';
import type { ConsoleSession } from './session';

export type Section = 'overview' | 'search' | 'dry-run';

const SECTIONS: readonly { readonly section: Section; readonly path: string; readonly label: string }[] = [
  { section: 'overview', path: '/ui/', label: 'Overview' },
  { section: 'search', path: '/ui/search', label: 'Search' },
  { section: 'dry-run', path: '/ui/dry-run', label: 'Policy dry run' },
];

export interface PageParts {
  readonly title: string;
  /** Absent on the sign-in page and error pages seen before signing in. */
  readonly session?: ConsoleSession;
  readonly section?: Section;
  /** Scripts under /ui/assets/ that enhance the page (it works without them). */
  readonly scripts?: readonly string[];
  readonly stylesheets?: readonly string[];
}

/**
 * Every console page: a skip link first (keyboard users reach the content in one step), the
 * navigation with the current page marked for screen readers, then the content in <main>.
 */
export function page(parts: PageParts, content: Html): string {
  const { session, section } = parts;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${parts.title} · Mayfly</title>
<link rel="stylesheet" href="/ui/assets/console.css">
${(parts.stylesheets ?? []).map((name) => html`<link rel="stylesheet" href="/ui/assets/${name}">`)}
${(parts.scripts ?? []).map((name) => html`<script src="/ui/assets/${name}" defer></script>`)}
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header>
<p class="brand">Mayfly audit console</p>
${session
  ? html`<nav aria-label="Console">
<ul>${SECTIONS.map((entry) => html`<li><a href="${entry.path}"${entry.section === section ? html` aria-current="page"` : ''}>${entry.label}</a></li>`)}</ul>
</nav>
<form class="signout" method="post" action="/ui/logout"><span>Signed in as ${session.requester.user}</span> <button type="submit">Sign out</button></form>`
  : ''}
</header>
<main id="main" tabindex="-1">
<h1>${parts.title}</h1>
${content}
</main>
</body>
</html>
`.text;
}
