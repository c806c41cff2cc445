// The hand-checked table of every transformers 4.44.2 model_type (see model_types.h
// for the family rules). Entries follow CONFIG_MAPPING_NAMES order; display names are
// MODEL_NAMES_MAPPING's. A `note` explains every family choice that is not obvious.
#include "registry/model_types.h"

#include <algorithm>

namespace ia {

namespace {

constexpr Family EO = Family::EncoderOnly;
constexpr Family DO = Family::DecoderOnly;
constexpr Family ED = Family::EncoderDecoder;
constexpr Family VI = Family::Vision;
constexpr Family VT = Family::VisionText;
constexpr Family SP = Family::Speech;
constexpr Family MM = Family::Multimodal;
constexpr Family DF = Family::Diffusion;
constexpr Family MOE = Family::MixtureOfExperts;
constexpr Family SS = Family::StateSpace;
constexpr Family RAG = Family::Rag;
constexpr Family OT = Family::Other;

// Task names: transformers pipeline task names where one exists; otherwise a
// descriptive name in the same style (replaced-token-detection, image-text-to-text...).
constexpr const char* kFillMask = "fill-mask";
constexpr const char* kTextGen = "text-generation";
constexpr const char* kText2Text = "text2text-generation";
constexpr const char* kTranslation = "translation";
constexpr const char* kSummarization = "summarization";
constexpr const char* kFeatures = "feature-extraction";
constexpr const char* kTextCls = "text-classification";
constexpr const char* kTokenCls = "token-classification";
constexpr const char* kQA = "question-answering";
constexpr const char* kImageCls = "image-classification";
constexpr const char* kImageFeatures = "image-feature-extraction";
constexpr const char* kDetection = "object-detection";
constexpr const char* kSegmentation = "image-segmentation";
constexpr const char* kDepth = "depth-estimation";
constexpr const char* kVideoCls = "video-classification";
constexpr const char* kZeroShotImage = "zero-shot-image-classification";
constexpr const char* kZeroShotDetection = "zero-shot-object-detection";
constexpr const char* kImageToText = "image-to-text";
constexpr const char* kImageTextToText = "image-text-to-text";
constexpr const char* kVideoTextToText = "video-text-to-text";
constexpr const char* kVQA = "visual-question-answering";
constexpr const char* kDocQA = "document-question-answering";
constexpr const char* kASR = "automatic-speech-recognition";
constexpr const char* kAudioCls = "audio-classification";
constexpr const char* kTextToAudio = "text-to-audio";
constexpr const char* kForecast = "time-series-forecasting";

const std::vector<ModelTypeInfo>& build_table() {
  static const std::vector<ModelTypeInfo> t = {
      {"albert", "ALBERT", EO, kFillMask, ""},
      {"align", "ALIGN", VT, kZeroShotImage, "dual image/text encoder (EfficientNet + BERT)"},
      {"altclip", "AltCLIP", VT, kZeroShotImage, "CLIP with an XLM-R text tower"},
      {"audio-spectrogram-transformer", "Audio Spectrogram Transformer", SP, kAudioCls, ""},
      {"autoformer", "Autoformer", OT, kForecast, "time-series forecasting (auto-correlation decomposition)"},
      {"bark", "Bark", SP, kTextToAudio, "text-to-speech from GPT-style semantic/coarse/fine stages"},
      {"bart", "BART", ED, kText2Text, ""},
      {"beit", "BEiT", VI, kImageCls, ""},
      {"bert", "BERT", EO, kFillMask, ""},
      {"bert-generation", "Bert Generation", ED, kText2Text,
       "BERT encoder/decoder halves meant to be paired in an EncoderDecoderModel"},
      {"big_bird", "BigBird", EO, kFillMask, "sparse block attention encoder"},
      {"bigbird_pegasus", "BigBird-Pegasus", ED, kSummarization, ""},
      {"biogpt", "BioGpt", DO, kTextGen, ""},
      {"bit", "BiT", VI, kImageCls, ""},
      {"blenderbot", "Blenderbot", ED, kText2Text, "dialogue seq2seq"},
      {"blenderbot-small", "BlenderbotSmall", ED, kText2Text, "dialogue seq2seq"},
      {"blip", "BLIP", VT, kImageToText,
       "vision-language pretraining: contrastive (BlipModel), captioning, VQA, retrieval heads"},
      {"blip-2", "BLIP-2", MM, kImageTextToText,
       "frozen image encoder + Q-Former feeding a frozen OPT/Flan-T5 language model"},
      {"bloom", "BLOOM", DO, kTextGen, ""},
      {"bridgetower", "BridgeTower", VT, "image-text-retrieval", "cross-modal image/text encoder"},
      {"bros", "BROS", EO, kTokenCls, "text encoder with 2-D box positions (document key-information extraction)"},
      {"camembert", "CamemBERT", EO, kFillMask, ""},
      {"canine", "CANINE", EO, kTextCls, "character-level encoder without a masked-LM head"},
      {"chameleon", "Chameleon", MM, kImageTextToText, "early-fusion language model over text and VQ image tokens"},
      {"chinese_clip", "Chinese-CLIP", VT, kZeroShotImage, ""},
      {"chinese_clip_vision_model", "ChineseCLIPVisionModel", VI, kImageFeatures,
       "the vision tower of Chinese-CLIP on its own"},
      {"clap", "CLAP", MM, "zero-shot-audio-classification",
       "contrastive audio/text dual encoder (CLIP for audio): audio + text, not vision"},
      {"clip", "CLIP", VT, kZeroShotImage, ""},
      {"clip_vision_model", "CLIPVisionModel", VI, kImageFeatures, "the vision tower of CLIP on its own"},
      {"clipseg", "CLIPSeg", VT, kSegmentation, "text- or image-prompted segmentation on CLIP"},
      {"clvp", "CLVP", SP, "text-to-speech-ranking", "contrastive text/speech model that ranks Tortoise TTS candidates"},
      {"code_llama", "CodeLlama", DO, kTextGen, "LLaMA architecture (LlamaConfig)"},
      {"codegen", "CodeGen", DO, kTextGen, ""},
      {"cohere", "Cohere", DO, kTextGen, ""},
      {"conditional_detr", "Conditional DETR", VI, kDetection, ""},
      {"convbert", "ConvBERT", EO, kFillMask, ""},
      {"convnext", "ConvNeXT", VI, kImageCls, ""},
      {"convnextv2", "ConvNeXTV2", VI, kImageCls, ""},
      {"cpmant", "CPM-Ant", DO, kTextGen, ""},
      {"ctrl", "CTRL", DO, kTextGen, ""},
      {"cvt", "CvT", VI, kImageCls, ""},
      {"data2vec-audio", "Data2VecAudio", SP, kASR, ""},
      {"data2vec-text", "Data2VecText", EO, kFillMask, ""},
      {"data2vec-vision", "Data2VecVision", VI, kImageCls, ""},
      {"dbrx", "DBRX", MOE, kTextGen, "fine-grained MoE decoder (16 experts, 4 active)"},
      {"deberta", "DeBERTa", EO, kFillMask, ""},
      {"deberta-v2", "DeBERTa-v2", EO, kFillMask, "also the model_type of DeBERTa-v3 checkpoints"},
      {"decision_transformer", "Decision Transformer", OT, "reinforcement-learning",
       "offline reinforcement learning: GPT-2 over (return, state, action) sequences"},
      {"deformable_detr", "Deformable DETR", VI, kDetection, ""},
      {"deit", "DeiT", VI, kImageCls, ""},
      {"depth_anything", "Depth Anything", OT, kDepth, "monocular depth estimation (dense regression head on DINOv2)"},
      {"deta", "DETA", VI, kDetection, ""},
      {"detr", "DETR", VI, kDetection, ""},
      {"dinat", "DiNAT", VI, kImageCls, ""},
      {"dinov2", "DINOv2", VI, kImageFeatures, "self-supervised ViT used as a feature backbone"},
      {"distilbert", "DistilBERT", EO, kFillMask, ""},
      {"donut-swin", "DonutSwin", VI, kImageFeatures,
       "Donut's Swin encoder; full Donut checkpoints are vision-encoder-decoder"},
      {"dpr", "DPR", EO, kFeatures, "dense passage retrieval: BERT question/context encoders and reader"},
      {"dpt", "DPT", OT, kDepth, "dense prediction transformer, primarily monocular depth estimation"},
      {"efficientformer", "EfficientFormer", VI, kImageCls, ""},
      {"efficientnet", "EfficientNet", VI, kImageCls, ""},
      {"electra", "ELECTRA", EO, kFillMask, "discriminator (replaced-token detection) and generator (masked LM)"},
      {"encodec", "EnCodec", SP, "audio-to-audio", "neural audio codec (encode/quantise/decode waveforms)"},
      {"encoder-decoder", "Encoder decoder", ED, kText2Text, "generic composition of an encoder and a decoder config"},
      {"ernie", "ERNIE", EO, kFillMask, ""},
      {"ernie_m", "ErnieM", EO, kTextCls, "multilingual encoder without a masked-LM head"},
      {"esm", "ESM", EO, kFillMask, "protein language model: BERT-style encoder over amino acids (rotary positions)"},
      {"falcon", "Falcon", DO, kTextGen, ""},
      {"fastspeech2_conformer", "FastSpeech2Conformer", SP, kTextToAudio, ""},
      {"flaubert", "FlauBERT", EO, kFillMask, ""},
      {"flava", "FLAVA", VT, kZeroShotImage, "image, text and multimodal encoders"},
      {"fnet", "FNet", EO, kFillMask, "Fourier-transform token mixing instead of attention"},
      {"focalnet", "FocalNet", VI, kImageCls, ""},
      {"fsmt", "FairSeq Machine-Translation", ED, kTranslation, ""},
      {"funnel", "Funnel Transformer", EO, kFillMask, ""},
      {"fuyu", "Fuyu", MM, kImageTextToText, "decoder LM that takes linearly projected image patches"},
      {"gemma", "Gemma", DO, kTextGen, ""},
      {"gemma2", "Gemma2", DO, kTextGen, ""},
      {"git", "GIT", VT, kImageToText, "generative image-to-text: CLIP image encoder + text decoder"},
      {"glpn", "GLPN", OT, kDepth, "monocular depth estimation"},
      {"gpt-sw3", "GPT-Sw3", DO, kTextGen, "GPT-2 architecture (GPT2Config)"},
      {"gpt2", "OpenAI GPT-2", DO, kTextGen, ""},
      {"gpt_bigcode", "GPTBigCode", DO, kTextGen, "multi-query attention GPT (StarCoder, SantaCoder)"},
      {"gpt_neo", "GPT Neo", DO, kTextGen, ""},
      {"gpt_neox", "GPT NeoX", DO, kTextGen, ""},
      {"gpt_neox_japanese", "GPT NeoX Japanese", DO, kTextGen, ""},
      {"gptj", "GPT-J", DO, kTextGen, ""},
      {"gptsan-japanese", "GPTSAN-japanese", MOE, kTextGen,
       "prefix LM built from Switch Transformer sparse (expert) feed-forward layers"},
      {"graphormer", "Graphormer", OT, "graph-classification", "graph transformer over molecular graphs"},
      {"grounding-dino", "Grounding DINO", VT, kZeroShotDetection, "text-prompted open-set detection"},
      {"groupvit", "GroupViT", VT, kZeroShotImage, ""},
      {"hiera", "Hiera", VI, kImageCls, ""},
      {"hubert", "Hubert", SP, kASR, ""},
      {"ibert", "I-BERT", EO, kFillMask, "integer-only quantised RoBERTa"},
      {"idefics", "IDEFICS", MM, kImageTextToText, "LLaMA with gated cross-attention to CLIP image features"},
      {"idefics2", "Idefics2", MM, kImageTextToText, "Mistral fed with SigLIP features through a perceiver resampler"},
      {"imagegpt", "ImageGPT", VI, kImageCls, "GPT-2 decoder over colour-cluster pixel tokens"},
      {"informer", "Informer", OT, kForecast, "time-series forecasting (ProbSparse attention)"},
      {"instructblip", "InstructBLIP", MM, kImageTextToText, "BLIP-2 with instruction-aware Q-Former"},
      {"instructblipvideo", "InstructBlipVideo", MM, kVideoTextToText, ""},
      {"jamba", "Jamba", SS, kTextGen,
       "hybrid: 7 of 8 layers are Mamba, MoE feed-forward every other layer; the recurrent SSM state "
       "(not the expert routing) shapes its cache, decode loop and pipeline, so state-space; MoE is a part"},
      {"jetmoe", "JetMoe", MOE, kTextGen, "mixture of attention heads and MLP experts"},
      {"jukebox", "Jukebox", SP, kTextToAudio, "music generation: VQ-VAE + transformer priors"},
      {"kosmos-2", "KOSMOS-2", MM, kImageTextToText, "grounded multimodal LM"},
      {"layoutlm", "LayoutLM", EO, kFillMask, "BERT with 2-D box positions (text + layout only)"},
      {"layoutlmv2", "LayoutLMv2", MM, kDocQA, "document encoder over text, layout and a visual backbone"},
      {"layoutlmv3", "LayoutLMv3", MM, kDocQA, "document encoder over text, layout and image patches"},
      {"led", "LED", ED, kSummarization, "Longformer encoder-decoder"},
      {"levit", "LeViT", VI, kImageCls, ""},
      {"lilt", "LiLT", EO, kTokenCls, "language-independent layout transformer (text + 2-D positions)"},
      {"llama", "LLaMA", DO, kTextGen, ""},
      {"llava", "LLaVa", MM, kImageTextToText, "CLIP vision tower + projector feeding a LLaMA/Mistral LM"},
      {"llava-next-video", "LLaVa-NeXT-Video", MM, kVideoTextToText, ""},
      {"llava_next", "LLaVA-NeXT", MM, kImageTextToText, "LLaVA with any-resolution image tiling"},
      {"longformer", "Longformer", EO, kFillMask, ""},
      {"longt5", "LongT5", ED, kText2Text, ""},
      {"luke", "LUKE", EO, kFillMask, "entity-aware encoder"},
      {"lxmert", "LXMERT", VT, kVQA, "cross-modal encoder over image regions and text"},
      {"m2m_100", "M2M100", ED, kTranslation, "also the model_type of NLLB-200 (dense) checkpoints"},
      {"mamba", "Mamba", SS, kTextGen, ""},
      {"mamba2", "mamba2", SS, kTextGen, ""},
      {"marian", "Marian", ED, kTranslation, ""},
      {"markuplm", "MarkupLM", EO, kQA, "text encoder with XPath embeddings for HTML"},
      {"mask2former", "Mask2Former", VI, kSegmentation, ""},
      {"maskformer", "MaskFormer", VI, kSegmentation, ""},
      {"maskformer-swin", "MaskFormerSwin", VI, kImageFeatures, "Swin backbone config used inside MaskFormer"},
      {"mbart", "mBART", ED, kTranslation, ""},
      {"mctct", "M-CTC-T", SP, kASR, ""},
      {"mega", "MEGA", EO, kFillMask, "moving-average gated attention encoder"},
      {"megatron-bert", "Megatron-BERT", EO, kFillMask, ""},
      {"mgp-str", "MGP-STR", VT, kImageToText, "scene-text recognition: ViT reading characters from an image"},
      {"mistral", "Mistral", DO, kTextGen, ""},
      {"mixtral", "Mixtral", MOE, kTextGen, "sparse MoE decoder (8 experts, top-2)"},
      {"mobilebert", "MobileBERT", EO, kFillMask, ""},
      {"mobilenet_v1", "MobileNetV1", VI, kImageCls, ""},
      {"mobilenet_v2", "MobileNetV2", VI, kImageCls, ""},
      {"mobilevit", "MobileViT", VI, kImageCls, ""},
      {"mobilevitv2", "MobileViTV2", VI, kImageCls, ""},
      {"mpnet", "MPNet", EO, kFillMask, ""},
      {"mpt", "MPT", DO, kTextGen, ""},
      {"mra", "MRA", EO, kFillMask, ""},
      {"mt5", "MT5", ED, kText2Text, ""},
      {"musicgen", "MusicGen", SP, kTextToAudio, "text-conditioned music generation over EnCodec tokens"},
      {"musicgen_melody", "MusicGen Melody", SP, kTextToAudio, ""},
      {"mvp", "MVP", ED, kText2Text, ""},
      {"nat", "NAT", VI, kImageCls, ""},
      {"nemotron", "Nemotron", DO, kTextGen, ""},
      {"nezha", "Nezha", EO, kFillMask, ""},
      {"nllb-moe", "NLLB-MOE", MOE, kTranslation, "encoder-decoder whose feed-forward layers are sparse experts"},
      {"nougat", "Nougat", VT, kImageToText, "Donut-style OCR of academic documents (VisionEncoderDecoderConfig)"},
      {"nystromformer", "Nyströmformer", EO, kFillMask, ""},
      {"olmo", "OLMo", DO, kTextGen, ""},
      {"oneformer", "OneFormer", VI, kSegmentation, ""},
      {"open-llama", "OpenLlama", DO, kTextGen, ""},
      {"openai-gpt", "OpenAI GPT", DO, kTextGen, ""},
      {"opt", "OPT", DO, kTextGen, ""},
      {"owlv2", "OWLv2", VT, kZeroShotDetection, ""},
      {"owlvit", "OWL-ViT", VT, kZeroShotDetection, "CLIP-based open-vocabulary detection"},
      {"paligemma", "PaliGemma", MM, kImageTextToText, "SigLIP vision tower + Gemma LM"},
      {"patchtsmixer", "PatchTSMixer", OT, kForecast, "time-series forecasting (MLP-Mixer over patches)"},
      {"patchtst", "PatchTST", OT, kForecast, "time-series forecasting (patched transformer)"},
      {"pegasus", "Pegasus", ED, kSummarization, ""},
      {"pegasus_x", "PEGASUS-X", ED, kSummarization, ""},
      {"perceiver", "Perceiver", MM, kFeatures,
       "Perceiver IO: modality-agnostic latent cross-attention (text, image, audio, video checkpoints)"},
      {"persimmon", "Persimmon", DO, kTextGen, ""},
      {"phi", "Phi", DO, kTextGen, ""},
      {"phi3", "Phi3", DO, kTextGen, ""},
      {"pix2struct", "Pix2Struct", VT, kImageToText, "screenshot/chart parsing: image encoder + text decoder"},
      {"plbart", "PLBart", ED, kText2Text, "code/text seq2seq"},
      {"poolformer", "PoolFormer", VI, kImageCls, ""},
      {"pop2piano", "Pop2Piano", SP, "audio-to-midi", "T5 over audio features producing piano MIDI tokens"},
      {"prophetnet", "ProphetNet", ED, kText2Text, ""},
      {"pvt", "PVT", VI, kImageCls, ""},
      {"pvt_v2", "PVTv2", VI, kImageCls, ""},
      {"qdqbert", "QDQBert", EO, kFillMask, "BERT with quantise/dequantise nodes"},
      {"qwen2", "Qwen2", DO, kTextGen, "also the model_type of Qwen1.5 and Qwen2.5 dense checkpoints"},
      {"qwen2_moe", "Qwen2MoE", MOE, kTextGen, "Qwen1.5-MoE / Qwen2-MoE: routed experts + shared expert"},
      {"rag", "RAG", RAG, "generative-question-answering", "DPR question encoder + retriever + BART/T5 generator"},
      {"realm", "REALM", RAG, kQA, "retrieval-augmented LM: knowledge retriever + reader"},
      {"recurrent_gemma", "RecurrentGemma", SS, kTextGen, "Griffin: RG-LRU linear recurrences + local attention"},
      {"reformer", "Reformer", DO, kTextGen, "LSH/local attention; published checkpoints are causal LMs"},
      {"regnet", "RegNet", VI, kImageCls, ""},
      {"rembert", "RemBERT", EO, kFillMask, ""},
      {"resnet", "ResNet", VI, kImageCls, ""},
      {"retribert", "RetriBERT", EO, kFeatures, "BERT query/document encoders for retrieval"},
      {"roberta", "RoBERTa", EO, kFillMask, ""},
      {"roberta-prelayernorm", "RoBERTa-PreLayerNorm", EO, kFillMask, ""},
      {"roc_bert", "RoCBert", EO, kFillMask, ""},
      {"roformer", "RoFormer", EO, kFillMask, ""},
      {"rt_detr", "RT-DETR", VI, kDetection, ""},
      {"rt_detr_resnet", "RT-DETR-ResNet", VI, kImageFeatures, "ResNet backbone config used inside RT-DETR"},
      {"rwkv", "RWKV", SS, kTextGen, "linear-attention RNN (time-mixing recurrence)"},
      {"sam", "SAM", DF, "mask-generation",
       "Segment Anything: the project's diffusion family groups \"Stable Diffusion, SAM\" "
       "(image generation / promptable segmentation pipelines)"},
      {"seamless_m4t", "SeamlessM4T", SP, kTranslation, "speech/text to speech/text translation"},
      {"seamless_m4t_v2", "SeamlessM4Tv2", SP, kTranslation, "speech/text to speech/text translation"},
      {"segformer", "SegFormer", VI, kSegmentation, ""},
      {"seggpt", "SegGPT", VI, kSegmentation, "in-context segmentation"},
      {"sew", "SEW", SP, kASR, ""},
      {"sew-d", "SEW-D", SP, kASR, ""},
      {"siglip", "SigLIP", VT, kZeroShotImage, ""},
      {"siglip_vision_model", "SiglipVisionModel", VI, kImageFeatures, "the vision tower of SigLIP on its own"},
      {"speech-encoder-decoder", "Speech Encoder decoder", SP, kASR, "speech encoder + text decoder composition"},
      {"speech_to_text", "Speech2Text", SP, kASR, ""},
      {"speech_to_text_2", "Speech2Text2", SP, kASR, "text decoder for speech-encoder-decoder models"},
      {"speecht5", "SpeechT5", SP, kTextToAudio, "unified speech/text encoder-decoder (TTS, ASR, voice conversion)"},
      {"splinter", "Splinter", EO, kQA, ""},
      {"squeezebert", "SqueezeBERT", EO, kFillMask, ""},
      {"stablelm", "StableLm", DO, kTextGen, ""},
      {"starcoder2", "Starcoder2", DO, kTextGen, ""},
      {"superpoint", "SuperPoint", VI, "keypoint-detection", ""},
      {"swiftformer", "SwiftFormer", VI, kImageCls, ""},
      {"swin", "Swin Transformer", VI, kImageCls, ""},
      {"swin2sr", "Swin2SR", VI, "image-to-image", "image super-resolution"},
      {"swinv2", "Swin Transformer V2", VI, kImageCls, ""},
      {"switch_transformers", "SwitchTransformers", MOE, kText2Text,
       "T5 encoder-decoder whose feed-forward layers are top-1 routed experts"},
      {"t5", "T5", ED, kText2Text, ""},
      {"table-transformer", "Table Transformer", VI, kDetection, "DETR for table detection/structure"},
      {"tapas", "TAPAS", EO, "table-question-answering",
       "BERT encoder over flattened tables (extra row/column token types)"},
      {"time_series_transformer", "Time Series Transformer", OT, kForecast, "probabilistic time-series forecasting"},
      {"timesformer", "TimeSformer", VI, kVideoCls, ""},
      {"timm_backbone", "TimmBackbone", VI, kImageFeatures, "wrapper loading a timm backbone"},
      {"trajectory_transformer", "Trajectory Transformer", OT, "reinforcement-learning",
       "offline reinforcement learning over discretised trajectories"},
      {"transfo-xl", "Transformer-XL", DO, kTextGen, ""},
      {"trocr", "TrOCR", VT, kImageToText, "OCR text decoder paired with a ViT encoder"},
      {"tvlt", "TVLT", MM, kFeatures, "textless vision-language: audio + video frames"},
      {"tvp", "TVP", VT, "temporal-video-grounding", "grounds a text query in video frames"},
      {"udop", "UDOP", MM, kDocQA, "document encoder-decoder over text, layout and image"},
      {"umt5", "UMT5", ED, kText2Text, ""},
      {"unispeech", "UniSpeech", SP, kASR, ""},
      {"unispeech-sat", "UniSpeechSat", SP, kASR, ""},
      {"univnet", "UnivNet", SP, "vocoder", "spectrogram-to-waveform vocoder"},
      {"upernet", "UPerNet", VI, kSegmentation, ""},
      {"van", "VAN", VI, kImageCls, ""},
      {"video_llava", "VideoLlava", MM, kVideoTextToText, ""},
      {"videomae", "VideoMAE", VI, kVideoCls, ""},
      {"vilt", "ViLT", VT, kVQA, "single-stream image/text transformer"},
      {"vipllava", "VipLlava", MM, kImageTextToText, ""},
      {"vision-encoder-decoder", "Vision Encoder decoder", VT, kImageToText, "image encoder + text decoder composition"},
      {"vision-text-dual-encoder", "VisionTextDualEncoder", VT, kZeroShotImage, "any vision + text encoder pair"},
      {"visual_bert", "VisualBERT", VT, kVQA, "BERT over text and image-region embeddings"},
      {"vit", "ViT", VI, kImageCls, ""},
      {"vit_hybrid", "ViT Hybrid", VI, kImageCls, ""},
      {"vit_mae", "ViTMAE", VI, kImageFeatures, "masked-autoencoder pretraining"},
      {"vit_msn", "ViTMSN", VI, kImageCls, ""},
      {"vitdet", "VitDet", VI, kImageFeatures, "plain ViT backbone for detection"},
      {"vitmatte", "ViTMatte", VI, "image-matting", ""},
      {"vits", "VITS", SP, kTextToAudio, ""},
      {"vivit", "ViViT", VI, kVideoCls, ""},
      {"wav2vec2", "Wav2Vec2", SP, kASR, ""},
      {"wav2vec2-bert", "Wav2Vec2-BERT", SP, kASR, ""},
      {"wav2vec2-conformer", "Wav2Vec2-Conformer", SP, kASR, ""},
      {"wavlm", "WavLM", SP, kASR, ""},
      {"whisper", "Whisper", SP, kASR, ""},
      {"xclip", "X-CLIP", VT, "zero-shot-video-classification", "CLIP extended to video"},
      {"xglm", "XGLM", DO, kTextGen, ""},
      {"xlm", "XLM", EO, kFillMask, ""},
      {"xlm-prophetnet", "XLM-ProphetNet", ED, kText2Text, ""},
      {"xlm-roberta", "XLM-RoBERTa", EO, kFillMask, ""},
      {"xlm-roberta-xl", "XLM-RoBERTa-XL", EO, kFillMask, ""},
      {"xlnet", "XLNet", EO, kTextGen,
       "permutation LM: bidirectional context through permutation masks (two-stream attention), "
       "not a causal KV-cache decoder; the LM head can still generate"},
      {"xmod", "X-MOD", EO, kFillMask, ""},
      {"yolos", "YOLOS", VI, kDetection, ""},
      {"yoso", "YOSO", EO, kFillMask, ""},
      {"zoedepth", "ZoeDepth", OT, kDepth, "metric monocular depth estimation"},
  };
  return t;
}

}  // namespace

const std::vector<ModelTypeInfo>& model_type_table() { return build_table(); }

const ModelTypeInfo* find_model_type(std::string_view model_type) {
  const auto& t = model_type_table();
  // CONFIG_MAPPING_NAMES is not strictly byte-sorted ('-' vs '_'), so search linearly:
  // 264 short string compares, called a handful of times per command.
  for (const auto& e : t)
    if (model_type == e.model_type) return &e;
  return nullptr;
}

SupportStatus support_status(const ModelTypeInfo& info) {
  return find_template(info.model_type) ? SupportStatus::Supported : SupportStatus::NotYet;
}

const char* support_status_name(SupportStatus s) { return s == SupportStatus::Supported ? "supported" : "not yet"; }

CoverageSummary coverage_summary() {
  CoverageSummary s;
  std::vector<Family> order = all_families();
  order.push_back(Family::Other);
  for (Family f : order) s.families.push_back({f, 0, 0});
  for (const auto& e : model_type_table()) {
    bool sup = support_status(e) == SupportStatus::Supported;
    auto it = std::find_if(s.families.begin(), s.families.end(), [&](const FamilyCoverage& c) { return c.family == e.family; });
    it->total++;
    it->supported += sup ? 1 : 0;
    s.total++;
    s.supported += sup ? 1 : 0;
  }
  return s;
}

}  // namespace ia
