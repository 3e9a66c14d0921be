import { mount } from "svelte";
import App from "./App.svelte";
import { start } from "./engine.svelte";

// The printed URL carries the token once; the server keeps it in a cookie, and it
// leaves the address bar and the history here.
if (new URLSearchParams(location.search).has("token")) {
  history.replaceState(history.state, "", location.pathname + location.hash);
}

// The connection and the first load start before the page is built: the WebSocket
// handshake and the first calls overlap with building it.
void start();
const app = mount(App, { target: document.getElementById("app")! });

export default app;
