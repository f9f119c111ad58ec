"""loopvid: an invented video service, its storyboard provider plugin and its loopback server.

    POST /v2/clips        {scene, frame: "16:9", still?, seed?, grain?}  -> 202 {clip: {id, phase}}
    GET  /v2/clips/{id}   {clip: {id, phase: queued|rendering|ready|broken, progress, href?, why?}}
    GET  /media/{id}.mp4  the clip (no key: it stands for a CDN)

Errors: {"trouble": {"kind": KEY_UNKNOWN|OUT_OF_TOKENS|TOO_FAST|NOT_ALLOWED|NO_SUCH_CLIP|
OVERLOADED, "say": words, "need"?, "have"?}} with HTTP 401|402|429|422|404|503. 7 tokens a clip.
"""
