# Peer for bench/preprocess_bench.cpp: the same preprocessing in Python, 1 thread.
# CLIP-224 steps as transformers runs them (Pillow open/convert/resize, numpy crop,
# rescale, normalise) on photo_640x480.jpg in the current directory; Whisper:
# torch.stft + mel matmul + log10 clamp as WhisperFeatureExtractor's torch path.
import time, numpy as np, torch
from PIL import Image
torch.set_num_threads(1)
import os
if not os.path.exists('photo_640x480.jpg'):  # the bench input: random RGB, JPEG quality 90
    rng = np.random.default_rng(0)
    Image.fromarray((rng.random((480, 640, 3)) * 255).astype(np.uint8)).save('photo_640x480.jpg', quality=90)
mean=np.array([0.48145466,0.4578275,0.40821073],dtype=np.float32); std=np.array([0.26862954,0.26130258,0.27577711],dtype=np.float32)
def clip(path):
    im = Image.open(path).convert('RGB'); w,h = im.size
    s = 224; nw, nh = (s, int(s*h/w)) if w <= h else (int(s*w/h), s)
    a = np.array(im.resize((nw, nh), 3)); t=(nh-224)//2; l=(nw-224)//2; a=a[t:t+224,l:l+224]
    x = (a.astype(np.float64)*(1/255)).astype(np.float32); x=(x-mean)/std
    return torch.from_numpy(x.transpose(2,0,1)[None].copy())
n=50; t=time.time()
for _ in range(n): clip('photo_640x480.jpg')
img_ms=(time.time()-t)/n*1000
wave = (0.3*np.sin(0.05*np.arange(480000))).astype(np.float32)
mel = torch.rand(201,80)
def whisper(w):
    w = torch.from_numpy(w); win = torch.hann_window(400)
    st = torch.stft(w, 400, 160, window=win, return_complex=True); mag = st[..., :-1].abs()**2
    ls = torch.clamp(mel.T @ mag, min=1e-10).log10(); ls = torch.maximum(ls, ls.max()-8.0); return (ls+4)/4
m=5; t=time.time()
for _ in range(m): whisper(wave)
print(f"peer: clip224 {img_ms:.2f} ms/image; whisper 30 s {(time.time()-t)/m*1000:.1f} ms")
